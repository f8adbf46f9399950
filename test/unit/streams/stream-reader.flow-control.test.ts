import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StreamReader } from "../../../src/streams/stream-reader.js";
import { attachFakeTransport, feed, tick } from "../../helpers/fake-transport.js";

const LIMIT = 10;
const bytes = (n: number) => "x".repeat(n);

describe("StreamReader flow control", () => {
  test("exactly 2 × limit buffered bytes do not pause the transport", () => {
    const reader = new StreamReader({ limit: LIMIT });
    const fake = attachFakeTransport(reader);
    feed(reader, bytes(2 * LIMIT));
    assert.deepEqual(fake.calls, []);
  });

  test("more than 2 × limit buffered bytes pause the transport once", () => {
    const reader = new StreamReader({ limit: LIMIT });
    const fake = attachFakeTransport(reader);
    feed(reader, bytes(2 * LIMIT), "x");
    feed(reader, bytes(50));
    assert.deepEqual(fake.calls, ["pauseReading"]);
    assert.equal(reader.bufferedSize, 2 * LIMIT + 51);
  });

  test("reading down to limit bytes resumes the transport, not before", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    const fake = attachFakeTransport(reader);
    feed(reader, bytes(2 * LIMIT + 5));
    await reader.readExactly(LIMIT + 4);
    assert.equal(reader.bufferedSize, LIMIT + 1);
    assert.deepEqual(fake.calls, ["pauseReading"]);
    await reader.readExactly(1);
    assert.equal(reader.bufferedSize, LIMIT);
    assert.deepEqual(fake.calls, ["pauseReading", "resumeReading"]);
  });

  test("a read that needs more than is buffered resumes a paused transport", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    const fake = attachFakeTransport(reader);
    feed(reader, bytes(3 * LIMIT));
    assert.equal(fake.reading, false);
    const pending = reader.readExactly(5 * LIMIT);
    await tick();
    assert.equal(fake.reading, true);
    assert.equal(reader.bufferedSize, 3 * LIMIT);
    feed(reader, bytes(2 * LIMIT));
    assert.equal((await pending).length, 5 * LIMIT);
  });

  test("readLine waiting for a newline keeps the transport reading up to the limit error", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    const fake = attachFakeTransport(reader);
    const pending = reader.readLine();
    feed(reader, bytes(LIMIT));
    await tick();
    assert.equal(fake.reading, true);
    feed(reader, bytes(LIMIT + 1));
    await assert.rejects(pending, { code: "ERR_LIMIT_OVERRUN" });
    assert.equal(reader.bufferedSize, 0);
    assert.equal(fake.reading, true);
  });

  test("a discarded over-long line resumes a paused transport", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    const fake = attachFakeTransport(reader);
    feed(reader, bytes(5 * LIMIT));
    assert.deepEqual(fake.calls, ["pauseReading"]);
    await assert.rejects(reader.readLine(), { code: "ERR_LIMIT_OVERRUN" });
    assert.deepEqual(fake.calls, ["pauseReading", "resumeReading"]);
  });

  test("pausing starts again after a resume when the buffer grows again", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    const fake = attachFakeTransport(reader);
    feed(reader, bytes(2 * LIMIT + 1));
    await reader.read(2 * LIMIT + 1);
    feed(reader, bytes(2 * LIMIT + 1));
    assert.deepEqual(fake.calls, ["pauseReading", "resumeReading", "pauseReading"]);
  });

  test("a reader without a transport buffers without limit", () => {
    const reader = new StreamReader({ limit: LIMIT });
    feed(reader, bytes(100 * LIMIT));
    assert.equal(reader.bufferedSize, 100 * LIMIT);
  });

  test("setTransport twice throws InvalidStateError", () => {
    const reader = new StreamReader();
    attachFakeTransport(reader);
    assert.throws(() => attachFakeTransport(reader), {
      name: "InvalidStateError",
      code: "ERR_INVALID_STATE",
      message: "Cannot set transport: already set",
    });
  });
});

describe("StreamReader highWaterMark", () => {
  test("defaults to 2 × limit", () => {
    assert.equal(new StreamReader({ limit: LIMIT }).highWaterMark, 2 * LIMIT);
  });

  test("pauses above it and resumes at half of it, whatever the limit", async () => {
    const reader = new StreamReader({ limit: LIMIT, highWaterMark: 100 });
    const fake = attachFakeTransport(reader);
    feed(reader, bytes(100));
    assert.deepEqual(fake.calls, []);
    feed(reader, "x");
    assert.deepEqual(fake.calls, ["pauseReading"]);
    await reader.readExactly(50);
    assert.equal(reader.bufferedSize, 51);
    assert.deepEqual(fake.calls, ["pauseReading"]);
    await reader.readExactly(1);
    assert.deepEqual(fake.calls, ["pauseReading", "resumeReading"]);
  });

  test("below the limit it still lets a waiting readLine reach the limit error", async () => {
    const reader = new StreamReader({ limit: LIMIT, highWaterMark: 4 });
    const fake = attachFakeTransport(reader);
    const pending = reader.readLine();
    feed(reader, bytes(6));
    assert.equal(fake.reading, false);
    await tick();
    feed(reader, bytes(LIMIT));
    await assert.rejects(pending, { code: "ERR_LIMIT_OVERRUN" });
    assert.equal(fake.reading, true);
  });

  for (const highWaterMark of [0, -1, 1.5, Number.NaN]) {
    test(`a highWaterMark of ${highWaterMark} is a RangeError`, () => {
      assert.throws(() => new StreamReader({ highWaterMark }), {
        name: "RangeError",
        message: `Invalid highWaterMark: must be a positive integer, got ${highWaterMark}`,
      });
    });
  }
});
