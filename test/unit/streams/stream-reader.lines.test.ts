import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LimitOverrunError } from "../../../src/errors.js";
import { StreamReader } from "../../../src/streams/stream-reader.js";
import { feed, tick } from "../../helpers/fake-transport.js";
import { withTimeout } from "../../helpers/with-timeout.js";

const LIMIT = 4;
const text = (bytes: Buffer) => bytes.toString("latin1");

async function collect(lines: AsyncIterable<Buffer>): Promise<string[]> {
  const seen: string[] = [];
  for await (const line of lines) seen.push(text(line));
  return seen;
}

describe("StreamReader.lines", () => {
  test("yields each line, then the partial last line, then stops at EOF", async () => {
    const reader = new StreamReader();
    feed(reader, "one\ntw", "o\nthr");
    const seen = collect(reader.lines());
    await tick();
    feed(reader, "ee");
    reader.feedEof();
    assert.deepEqual(await withTimeout(seen, 2000, "lines"), ["one\n", "two\n", "three"]);
  });

  test('onTooLong "throw" (the default) ends the iteration with LimitOverrunError', async () => {
    const reader = new StreamReader({ limit: LIMIT });
    feed(reader, "ok\n", "toolong\n", "after\n");
    reader.feedEof();
    const seen: string[] = [];
    const error = await (async () => {
      for await (const line of reader.lines()) seen.push(text(line));
    })().catch((e: unknown) => e);
    assert.ok(error instanceof LimitOverrunError);
    assert.deepEqual(seen, ["ok\n"]);
  });

  test('onTooLong "skip" drops over-long lines, also one still arriving, and goes on', async () => {
    const reader = new StreamReader({ limit: LIMIT });
    feed(reader, "ok\n", "toolong\n", "xxxxxx");
    const seen = collect(reader.lines({ onTooLong: "skip" }));
    await tick();
    feed(reader, "xx\nend\n");
    reader.feedEof();
    assert.deepEqual(await withTimeout(seen, 2000, "lines"), ["ok\n", "end\n"]);
  });

  test("a signal cancels the waiting read: the iteration throws its reason, data kept", async () => {
    const reader = new StreamReader();
    const controller = new AbortController();
    const seen: string[] = [];
    const iterating = (async () => {
      for await (const line of reader.lines({ signal: controller.signal })) seen.push(text(line));
    })();
    feed(reader, "a\npart");
    await tick();
    controller.abort(new Error("stop"));
    await assert.rejects(withTimeout(iterating, 2000, "lines"), { message: "stop" });
    assert.deepEqual(seen, ["a\n"]);
    assert.equal(reader.bufferedSize, 4);
  });

  test("breaking out of the loop consumes nothing more", async () => {
    const reader = new StreamReader();
    feed(reader, "a\nb\n");
    for await (const line of reader.lines()) {
      assert.equal(text(line), "a\n");
      break;
    }
    assert.equal(text(await reader.readLine()), "b\n");
  });

  test("an unknown onTooLong is a RangeError at once", () => {
    assert.throws(() => new StreamReader().lines({ onTooLong: "drop" as "skip" }), {
      name: "RangeError",
      message: 'Invalid onTooLong: must be "throw" or "skip", got drop',
    });
  });
});

describe("StreamReader.discardingLine", () => {
  test("is true from an over-long line's error until its newline arrives", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    assert.equal(reader.discardingLine, false);
    feed(reader, "xxxxxx");
    await assert.rejects(reader.readLine(), LimitOverrunError);
    assert.equal(reader.discardingLine, true);
    assert.equal(reader.bufferedSize, 0);
    feed(reader, "xx");
    assert.equal(reader.discardingLine, true);
    feed(reader, "x\nnext");
    assert.equal(reader.discardingLine, false);
    assert.equal(reader.bufferedSize, 4);
  });

  test("is false after an over-long line whose newline was already buffered", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    feed(reader, "xxxxxx\n");
    await assert.rejects(reader.readLine(), LimitOverrunError);
    // The case a line server cannot tell from bufferedSize: nothing left, nothing to drop.
    assert.equal(reader.bufferedSize, 0);
    assert.equal(reader.discardingLine, false);
  });

  test("is false at EOF, also when EOF cuts the over-long line", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    feed(reader, "xxxxxx");
    await assert.rejects(reader.readLine(), LimitOverrunError);
    reader.feedEof();
    assert.equal(reader.discardingLine, false);
    const ended = new StreamReader({ limit: LIMIT });
    feed(ended, "xxxxxx");
    ended.feedEof();
    await assert.rejects(ended.readLine(), LimitOverrunError);
    assert.equal(ended.discardingLine, false);
  });
});
