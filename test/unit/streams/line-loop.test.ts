import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { serveLines } from "../../../src/streams/serve-lines.js";
import { StreamReader } from "../../../src/streams/stream-reader.js";
import { bracketSession, FakeWriter, fedReader } from "../apps/fakes.js";

const LIMIT = 8;
const TOO_LONG = `ERR line too long (more than ${LIMIT} bytes)\r\n`;

describe("serveLines", () => {
  const table: [name: string, chunks: string[], replies: string, end: string][] = [
    ["answers each line, without its newline", ["a\nb\n"], "<a><b>", "eof"],
    ["keeps a CR for the app to strip", ["a\r\n"], "<a\r>", "eof"],
    ["answers a last line that ends at EOF", ["a\nb"], "<a><b>", "eof"],
    ["joins a line split across chunks", ["he", "ll", "o\n"], "<hello>", "eof"],
    ["ignores empty chunks", ["", "x\n", ""], "<x>", "eof"],
    ["answers an empty line", ["\n"], "<>", "eof"],
    ["returns at EOF with nothing buffered", [], "", "eof"],
    ["stops after a closing reply, leaving the rest unread", ["a\nbye\nc\n"], "<a><bye>", "close"],
    [
      "answers a line of limit - 1 bytes",
      [`${"x".repeat(LIMIT - 1)}\n`],
      `<${"x".repeat(LIMIT - 1)}>`,
      "eof",
    ],
    [
      "answers a line of exactly limit bytes",
      [`${"x".repeat(LIMIT)}\n`],
      `<${"x".repeat(LIMIT)}>`,
      "eof",
    ],
    [
      "refuses a line of limit + 1 bytes and goes on",
      [`${"x".repeat(LIMIT + 1)}\nok\n`],
      `${TOO_LONG}<ok>`,
      "eof",
    ],
    [
      "refuses a long line that arrives in pieces, once",
      ["0123", "45678", "9abcdef", "\nok\n"],
      `${TOO_LONG}<ok>`,
      "eof",
    ],
    ["refuses a long last line at EOF", [`${"x".repeat(LIMIT + 3)}`], TOO_LONG, "eof"],
    [
      "refuses two long lines, each once",
      [`${"y".repeat(20)}\n${"z".repeat(20)}\nok\n`],
      `${TOO_LONG}${TOO_LONG}<ok>`,
      "eof",
    ],
  ];
  for (const [name, chunks, replies, end] of table) {
    test(name, async () => {
      const reader = new StreamReader({ limit: LIMIT });
      const writer = new FakeWriter();
      const done = serveLines(bracketSession)(reader, writer);
      for (const chunk of chunks) {
        reader.feedData(Buffer.from(chunk, "latin1"));
        await new Promise((resolve) => setImmediate(resolve));
      }
      reader.feedEof();
      assert.equal(await done, end);
      assert.equal(writer.text(), replies);
    });
  }

  test("applies a maxLine option smaller than the reader's", async () => {
    const writer = new FakeWriter();
    const reader = fedReader(["12345\n123456\n"]);
    assert.equal(await serveLines(bracketSession, { maxLine: 5 })(reader, writer), "eof");
    assert.equal(writer.text(), "<12345>ERR line too long (more than 5 bytes)\r\n");
  });

  test("on shutdown answers the lines already buffered, then stops waiting", async () => {
    const shutdown = new AbortController();
    const reader = fedReader(["a\nb\npartial"], false);
    const writer = new FakeWriter();
    shutdown.abort();
    assert.equal(
      await serveLines(bracketSession, { signal: shutdown.signal })(reader, writer),
      "shutdown",
    );
    assert.equal(writer.text(), "<a><b>");
  });

  test("on shutdown while waiting, returns at once", async () => {
    const shutdown = new AbortController();
    const reader = new StreamReader();
    const writer = new FakeWriter();
    const done = serveLines(bracketSession, { signal: shutdown.signal })(reader, writer);
    reader.feedData(Buffer.from("one\n"));
    await new Promise((resolve) => setImmediate(resolve));
    shutdown.abort();
    assert.equal(await done, "shutdown");
    assert.equal(writer.text(), "<one>");
  });

  test("sends the replies to pipelined lines in one write", async () => {
    const writer = new FakeWriter();
    await serveLines(bracketSession)(fedReader(["a\nb\nc\n"]), writer);
    assert.equal(writer.text(), "<a><b><c>");
    assert.equal(writer.writes, 1);
  });

  test("a burst of empty lines (replies larger than requests) is written in bounded batches, draining between them", async () => {
    const lines = 40_000; // 40 KB in, 80 KB of replies out
    const writer = new FakeWriter();
    writer.needsDrain = true;
    const writeSizes: number[] = [];
    const write = writer.write.bind(writer);
    writer.write = (data: Uint8Array | string) => {
      writeSizes.push(data.length);
      write(data);
    };
    assert.equal(await serveLines(bracketSession)(fedReader(["\n".repeat(lines)]), writer), "eof");
    assert.equal(writer.text(), "<>".repeat(lines));
    assert.ok(writeSizes.length >= 2, `one write of ${writeSizes[0]} bytes`);
    for (const size of writeSizes) assert.ok(size <= 64 * 1024 + 2, `a write of ${size} bytes`);
    assert.ok(
      writer.drains >= writeSizes.length - 1,
      `${writer.drains} drains for ${writeSizes.length} writes`,
    );
  });

  test("does not hold back a reply while the next line is incomplete", async () => {
    const reader = fedReader(["a\nb\npart"], false);
    const writer = new FakeWriter();
    const done = serveLines(bracketSession)(reader, writer);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writer.text(), "<a><b>");
    reader.feedData(Buffer.from("ial\n"));
    reader.feedEof();
    assert.equal(await done, "eof");
    assert.equal(writer.text(), "<a><b><partial>");
  });

  test("rejects with the connection's error", async () => {
    const reader = new StreamReader();
    const done = serveLines(bracketSession)(reader, new FakeWriter());
    reader.setException(new Error("reset"));
    await assert.rejects(done, /reset/);
  });

  test("any chunking of the same bytes gives the same replies", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom("a", "b", "\n", "\r", "x".repeat(LIMIT)), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (pieces, cuts) => {
          const bytes = Buffer.from(pieces.join(""), "latin1");
          const whole = new FakeWriter();
          await serveLines(bracketSession)(fedReader([bytes], true, LIMIT), whole);
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const chunks: Buffer[] = [];
          let from = 0;
          for (const at of [...points, bytes.length]) {
            chunks.push(bytes.subarray(from, at));
            from = at;
          }
          const split = new FakeWriter();
          const reader = new StreamReader({ limit: LIMIT });
          const done = serveLines(bracketSession)(reader, split);
          for (const chunk of chunks) {
            reader.feedData(chunk);
            await Promise.resolve();
          }
          reader.feedEof();
          await done;
          assert.equal(split.text(), whole.text());
        },
      ),
      { numRuns: 200 },
    );
  });
});
