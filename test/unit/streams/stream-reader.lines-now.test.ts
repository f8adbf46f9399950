import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type LineVisitor, StreamReader } from "../../../src/streams/stream-reader.js";
import { attachFakeTransport, feed, tick } from "../../helpers/fake-transport.js";

const LIMIT = 8;

/** A visitor that copies each line as latin1 text and stops after `stopAfter` lines. */
function collector(stopAfter = Number.POSITIVE_INFINITY): LineVisitor & { lines: string[] } {
  return {
    lines: [],
    onLine(bytes, start, end) {
      this.lines.push(bytes.toString("latin1", start, end));
      return this.lines.length < stopAfter;
    },
  };
}

describe("StreamReader.readLineNow", () => {
  test("returns each whole buffered line, then null without consuming a partial one", () => {
    const reader = new StreamReader();
    feed(reader, "a\nbb\r\npart");
    assert.equal(reader.readLineNow()?.toString(), "a\n");
    assert.equal(reader.readLineNow()?.toString(), "bb\r\n");
    assert.equal(reader.readLineNow(), null);
    assert.equal(reader.bufferedSize, 4);
  });

  test("joins a line split over chunks", () => {
    const reader = new StreamReader();
    feed(reader, "he", "ll", "o\nx");
    assert.equal(reader.readLineNow()?.toString(), "hello\n");
    assert.equal(reader.bufferedSize, 1);
  });

  test("leaves an over-long line, EOF and errors to readLine", async () => {
    const long = new StreamReader({ limit: LIMIT });
    feed(long, `${"x".repeat(LIMIT + 1)}\n`);
    assert.equal(long.readLineNow(), null);
    assert.equal(long.bufferedSize, LIMIT + 2);

    const atEof = new StreamReader();
    feed(atEof, "last");
    atEof.feedEof();
    assert.equal(atEof.readLineNow(), null);
    assert.equal((await atEof.readLine()).toString(), "last");

    const failed = new StreamReader();
    feed(failed, "a\n");
    failed.setException(new Error("reset"));
    assert.equal(failed.readLineNow(), null);
  });

  test("returns null while another read waits", async () => {
    const reader = new StreamReader();
    const pending = reader.readExactly(3);
    feed(reader, "a\n");
    assert.equal(reader.readLineNow(), null);
    feed(reader, "b");
    assert.equal((await pending).toString(), "a\nb");
  });
});

describe("StreamReader.readLinesNow", () => {
  test("hands over every whole buffered line in order, newline included, and consumes them", () => {
    const reader = new StreamReader();
    feed(reader, "a\nbb\r\n\nccc");
    const visitor = collector();
    assert.equal(reader.readLinesNow(visitor), 3);
    assert.deepEqual(visitor.lines, ["a\n", "bb\r\n", "\n"]);
    assert.equal(reader.bufferedSize, 3);
    assert.equal(reader.readLinesNow(visitor), 0);
  });

  test("copies a line that straddles chunks into one buffer", () => {
    const reader = new StreamReader();
    feed(reader, "x\nhe", "l", "lo\ny\n");
    const visitor = collector();
    assert.equal(reader.readLinesNow(visitor), 3);
    assert.deepEqual(visitor.lines, ["x\n", "hello\n", "y\n"]);
    assert.equal(reader.bufferedSize, 0);
  });

  test("stops after the line for which onLine returns false, that line consumed", () => {
    const reader = new StreamReader();
    feed(reader, "1\n2\n3\n");
    const visitor = collector(2);
    assert.equal(reader.readLinesNow(visitor), 2);
    assert.deepEqual(visitor.lines, ["1\n", "2\n"]);
    assert.equal(reader.readLineNow()?.toString(), "3\n");
  });

  test("stops at an over-long line and leaves it to readLine, which refuses it", async () => {
    const reader = new StreamReader({ limit: LIMIT });
    feed(reader, `${"x".repeat(LIMIT)}\n${"y".repeat(LIMIT + 1)}\nok\n`);
    const visitor = collector();
    assert.equal(reader.readLinesNow(visitor), 1);
    assert.deepEqual(visitor.lines, [`${"x".repeat(LIMIT)}\n`]);
    await assert.rejects(reader.readLine(), { name: "LimitOverrunError" });
    assert.equal(reader.readLinesNow(visitor), 1);
    assert.equal(visitor.lines.at(-1), "ok\n");
  });

  test("hands over nothing after an error or while a read waits", async () => {
    const failed = new StreamReader();
    feed(failed, "a\n");
    failed.setException(new Error("reset"));
    assert.equal(failed.readLinesNow(collector()), 0);

    const busy = new StreamReader();
    const pending = busy.readExactly(4);
    feed(busy, "a\n");
    assert.equal(busy.readLinesNow(collector()), 0);
    feed(busy, "b\n");
    assert.equal((await pending).toString(), "a\nb\n");
  });

  test("resumes a paused transport once it has consumed down to the limit", () => {
    const reader = new StreamReader({ limit: LIMIT });
    const fake = attachFakeTransport(reader);
    feed(reader, "1234567\n".repeat(3), "x");
    assert.deepEqual(fake.calls, ["pauseReading"]);
    assert.equal(reader.readLinesNow(collector()), 3);
    assert.deepEqual(fake.calls, ["pauseReading", "resumeReading"]);
  });

  test("any chunking gives the same lines as readLine, and leaves the same rest", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom("a", "bc", "\n", "\r", "x".repeat(LIMIT)), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (pieces, cuts) => {
          const bytes = pieces.join("");
          const expected: string[] = [];
          const byLine = new StreamReader({ limit: LIMIT * 4 });
          feed(byLine, bytes);
          byLine.feedEof();
          for (let line = byLine.readLineNow(); line !== null; line = byLine.readLineNow()) {
            expected.push(line.toString("latin1"));
          }
          const reader = new StreamReader({ limit: LIMIT * 4 });
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          let from = 0;
          for (const to of [...points, bytes.length]) {
            feed(reader, bytes.slice(from, to));
            from = to;
          }
          const visitor = collector();
          reader.readLinesNow(visitor);
          assert.deepEqual(visitor.lines, expected);
          assert.equal(reader.bufferedSize, byLine.bufferedSize);
          await tick();
        },
      ),
      { numRuns: 200 },
    );
  });
});
