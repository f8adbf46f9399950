import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LimitOverrunError } from "../../../src/errors.js";
import { StreamReader } from "../../../src/streams/stream-reader.js";
import { feed, tick } from "../../helpers/fake-transport.js";

const text = (buffer: Buffer) => buffer.toString("latin1");
const LIMIT = 8;

/** Feeds `bytes` one piece at a time, letting a waiting read run between pieces. */
async function feedInPieces(reader: StreamReader, bytes: string, size: number): Promise<void> {
  for (let i = 0; i < bytes.length; i += size) {
    feed(reader, bytes.slice(i, i + size), "");
    await tick();
  }
}

async function expectLimitError(pending: Promise<Buffer>, consumed?: number): Promise<void> {
  const error = await pending.catch((e: unknown) => e);
  assert.ok(error instanceof LimitOverrunError, `expected LimitOverrunError, got ${error}`);
  assert.equal(error.code, "ERR_LIMIT_OVERRUN");
  assert.equal(error.name, "LimitOverrunError");
  assert.equal(error.message, `Cannot read line: exceeded limit of ${LIMIT} bytes`);
  if (consumed !== undefined) assert.equal(error.consumed, consumed);
}

describe("StreamReader.readLine", () => {
  test("readLine returns lines with their newline, one at a time", async () => {
    const reader = new StreamReader();
    feed(reader, "a\nbb\n\nccc\r\n");
    const lines = [];
    for (let i = 0; i < 4; i++) lines.push(text(await reader.readLine()));
    assert.deepEqual(lines, ["a\n", "bb\n", "\n", "ccc\r\n"]);
    assert.equal(reader.bufferedSize, 0);
  });

  test("readLine joins a line split over many chunks, empty ones included", async () => {
    const reader = new StreamReader();
    const pending = reader.readLine();
    for (const part of ["he", "", "l", "lo", "", "\nnext"]) {
      feed(reader, part);
      await tick();
    }
    assert.equal(text(await pending), "hello\n");
    assert.equal(reader.bufferedSize, 4);
  });

  test("readLine returns the partial line at EOF, then empty buffers", async () => {
    const reader = new StreamReader();
    feed(reader, "no newline");
    reader.feedEof();
    assert.equal(text(await reader.readLine()), "no newline");
    assert.equal((await reader.readLine()).length, 0);
    assert.equal((await reader.readLine()).length, 0);
  });

  test("readLine waiting when EOF arrives returns the partial line", async () => {
    const reader = new StreamReader();
    const pending = reader.readLine();
    feed(reader, "tail");
    await tick();
    reader.feedEof();
    assert.equal(text(await pending), "tail");
  });

  for (const size of [1, 3, LIMIT - 1, LIMIT, LIMIT + 1, 100]) {
    test(`lines of limit - 1 and limit bytes pass and limit + 1 fails, fed ${size} bytes at a time`, async () => {
      const reader = new StreamReader({ limit: LIMIT });
      const short = "a".repeat(LIMIT - 1);
      const exact = "b".repeat(LIMIT);
      const long = "c".repeat(LIMIT + 1);
      const feeding = feedInPieces(reader, `${short}\n${exact}\n${long}\nafter\n`, size);
      assert.equal(text(await reader.readLine()), `${short}\n`);
      assert.equal(text(await reader.readLine()), `${exact}\n`);
      await expectLimitError(reader.readLine());
      assert.equal(text(await reader.readLine()), "after\n");
      await feeding;
      assert.equal(reader.bufferedSize, 0);
    });
  }

  test("a line of exactly limit bytes is accepted whole from one chunk", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    feed(reader, `${"x".repeat(LIMIT)}\n${"y".repeat(LIMIT + 1)}\nz\n`);
    assert.equal(text(await reader.readLine()), `${"x".repeat(LIMIT)}\n`);
    await expectLimitError(reader.readLine(), LIMIT + 1);
    assert.equal(text(await reader.readLine()), "z\n");
  });

  test("an over-long buffered line is discarded through its newline and the next line is intact", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    feed(reader, `${"x".repeat(20)}\nnext\n`);
    await expectLimitError(reader.readLine(), 20);
    assert.equal(reader.bufferedSize, 5);
    assert.equal(text(await reader.readLine()), "next\n");
  });

  test("the rest of an over-long line arriving later is discarded too", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    feed(reader, "x".repeat(LIMIT + 1));
    await expectLimitError(reader.readLine(), LIMIT + 1);
    assert.equal(reader.bufferedSize, 0);
    feed(reader, "more", "", "still the same line");
    assert.equal(reader.bufferedSize, 0);
    feed(reader, "end of it\nnext\n");
    assert.equal(reader.bufferedSize, 5);
    assert.equal(text(await reader.readLine()), "next\n");
  });

  test("a read waiting while the rest of an over-long line is discarded sees only later bytes", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    feed(reader, "y".repeat(LIMIT + 3));
    await expectLimitError(reader.readLine());
    const pending = reader.readLine();
    await feedInPieces(reader, "yyyy\nok\n", 2);
    assert.equal(text(await pending), "ok\n");
  });

  test("an over-long line cut by EOF fails once and then reads return empty", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    feed(reader, "z".repeat(LIMIT + 5));
    reader.feedEof();
    await expectLimitError(reader.readLine());
    assert.equal((await reader.readLine()).length, 0);
    assert.ok(reader.atEof());
  });

  test("a partial line of exactly limit bytes at EOF is returned", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    feed(reader, "q".repeat(LIMIT));
    reader.feedEof();
    assert.equal(text(await reader.readLine()), "q".repeat(LIMIT));
  });

  test("readLine after an over-limit readUntil still sees the kept data", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    feed(reader, `${"k".repeat(LIMIT + 2)}END\n`);
    await assert.rejects(reader.readUntil("END"), LimitOverrunError);
    assert.equal(reader.bufferedSize, LIMIT + 6);
    await expectLimitError(reader.readLine(), LIMIT + 5);
    assert.equal(reader.bufferedSize, 0);
  });
});
