import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ChunkQueue, type LineVisitor } from "../../../src/streams/chunk-queue.js";

const b = (text: string) => Buffer.from(text, "latin1");
const text = (bytes: Buffer | null) => (bytes === null ? null : bytes.toString("latin1"));

/** A queue fed `parts` in order (strings as latin1). */
function queueOf(...parts: string[]): ChunkQueue {
  const queue = new ChunkQueue();
  for (const part of parts) queue.append(b(part));
  return queue;
}

/** Cuts `bytes` into pieces of the given sizes (cycled), empty pieces included. */
function cut(bytes: string, sizes: number[]): string[] {
  const parts: string[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] as number;
    parts.push(bytes.slice(at, at + size));
    at += size;
    if (i > 10 * bytes.length + 10) break;
  }
  parts.push(bytes.slice(at));
  return parts;
}

/** Collects the lines of takeLines as text, stopping after `stopAfter`. */
function sink(
  stopAfter = Number.POSITIVE_INFINITY,
): LineVisitor & { lines: string[]; views: Buffer[] } {
  return {
    lines: [],
    views: [],
    onLine(bytes, start, end) {
      this.lines.push(bytes.toString("latin1", start, end));
      this.views.push(bytes);
      return this.lines.length < stopAfter;
    },
  };
}

describe("ChunkQueue append and take", () => {
  test("take returns the first bytes across chunks and leaves the rest", () => {
    const queue = queueOf("ab", "", "cde", "f");
    assert.equal(queue.size, 6);
    assert.equal(text(queue.take(4)), "abcd");
    assert.equal(queue.size, 2);
    assert.equal(text(queue.take(2)), "ef");
    assert.equal(queue.size, 0);
    assert.equal(queue.chunkCount, 0);
  });

  test("take(0) returns an empty buffer and consumes nothing", () => {
    const queue = queueOf("abc");
    assert.equal(queue.take(0).length, 0);
    assert.equal(queue.size, 3);
  });

  for (const n of [-1, 4, 1.5]) {
    test(`take(${n}) of 3 buffered bytes is a RangeError that consumes nothing`, () => {
      const queue = queueOf("abc");
      assert.throws(() => queue.take(n), {
        name: "RangeError",
        message: `Cannot take ${n} bytes: 3 are buffered`,
      });
      assert.equal(queue.size, 3);
    });
  }

  test("bytes within one chunk are a view of it, not a copy", () => {
    const chunk = Buffer.alloc(4096, 0x61);
    const queue = new ChunkQueue();
    queue.append(chunk);
    const first = queue.take(100);
    assert.equal(first.buffer, chunk.buffer);
    assert.equal(first.byteOffset, chunk.byteOffset);
    assert.equal(queue.take(3996).buffer, chunk.buffer);
  });

  test("a chunk of 1 KiB or more behind buffered bytes is kept by reference", () => {
    const big = Buffer.alloc(1024, 0x62);
    const queue = queueOf("a", "b", "c", "d", "e", "f");
    assert.equal(queue.chunkCount, 5);
    queue.append(big);
    assert.equal(queue.chunkCount, 6);
    queue.skip(6);
    assert.equal(queue.take(1024).buffer, big.buffer);
  });

  test("the first four small chunks are kept as they are, later ones joined into a tail", () => {
    const first = b("a");
    const queue = new ChunkQueue();
    queue.append(first);
    for (const part of ["b", "c", "d"]) queue.append(b(part));
    assert.equal(queue.chunkCount, 4);
    for (const part of ["e", "f", "g"]) queue.append(b(part));
    assert.equal(queue.chunkCount, 5);
    assert.equal(queue.take(1), first);
    assert.equal(text(queue.take(6)), "bcdefg");
  });

  test("small chunks behind buffered bytes are joined: 60,000 one-byte chunks make few chunks", () => {
    const queue = new ChunkQueue();
    for (let i = 0; i < 60_000; i++) queue.append(Buffer.of(0x61 + (i % 26)));
    assert.equal(queue.size, 60_000);
    // The first 4 chunks by reference, then tails of 256 B doubling: 12 chunks.
    assert.ok(queue.chunkCount <= 16, `${queue.chunkCount} chunks`);
    const all = queue.take(60_000);
    for (let i = 0; i < 60_000; i += 997) assert.equal(all[i], 0x61 + (i % 26));
  });

  test("bytes taken from a tail stay intact while more is appended to it", () => {
    const queue = queueOf("1", "2", "3", "x", "ab", "cd");
    queue.skip(4);
    const view = queue.take(2);
    queue.append(b("ef"));
    queue.append(b("gh"));
    assert.equal(text(view), "ab");
    assert.equal(text(queue.take(6)), "cdefgh");
  });

  test("skip past the end empties the queue", () => {
    const queue = queueOf("ab", "cd");
    queue.skip(10);
    assert.equal(queue.size, 0);
    assert.equal(queue.chunkCount, 0);
  });
});

describe("ChunkQueue search", () => {
  test("a separator split across two chunks is found", () => {
    const queue = queueOf("abc\r", "\ndef");
    assert.equal(queue.indexOf(b("\r\n")), 3);
    assert.equal(text(queue.takeThrough(b("\r\n"))), "abc\r\n");
    assert.equal(text(queue.take(queue.size)), "def");
  });

  test("a separator split across three chunks, one of them a single byte, is found", () => {
    // Big chunks so that each is kept by reference and the boundaries are real.
    const pad = "x".repeat(2000);
    const queue = queueOf(`${pad}E`, "N", `D${pad}`);
    assert.ok(queue.chunkCount >= 2);
    assert.equal(queue.indexOf(b("END")), 2000);
    assert.equal(queue.takeThrough(b("END"))?.length, 2003);
    assert.equal(queue.size, 2000);
  });

  test("a partial separator at the end is not a match, and is found once completed", () => {
    const queue = queueOf("abE", "N");
    assert.equal(queue.find(b("END")), -1);
    assert.equal(queue.takeThrough(b("END")), null);
    assert.equal(queue.size, 4);
    queue.append(b("D!"));
    assert.equal(text(queue.takeThrough(b("END"))), "abEND");
    assert.equal(text(queue.take(1)), "!");
  });

  test("indexOf starts at from and ignores matches before it", () => {
    const queue = queueOf("a\nb", "\nc");
    assert.equal(queue.indexOf(b("\n")), 1);
    assert.equal(queue.indexOf(b("\n"), 2), 3);
    assert.equal(queue.indexOf(b("\n"), 4), -1);
    assert.equal(queue.indexOf(b("\n"), -5), 1);
  });

  test("an empty queue or an empty separator finds nothing", () => {
    assert.equal(new ChunkQueue().find(b("\n")), -1);
    assert.equal(queueOf("a").indexOf(Buffer.alloc(0)), -1);
  });

  test("find for another separator starts over and still finds earlier matches", () => {
    const queue = queueOf("ab;cd", "\n");
    assert.equal(queue.find(b("\n")), 5);
    assert.equal(queue.find(b(";")), 2);
    assert.equal(queue.find(b("\n")), 5);
  });

  test("find looks at each byte about once when a line arrives one byte at a time", () => {
    const queue = new ChunkQueue();
    const before = ChunkQueue.bytesExamined;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      queue.append(Buffer.of(0x61));
      assert.equal(queue.find(b("\r\n")), -1);
    }
    queue.append(b("\r\n"));
    assert.equal(queue.find(b("\r\n")), n);
    const examined = ChunkQueue.bytesExamined - before;
    // Each byte once, and each chunk boundary a few times: linear; a search from
    // the start on every arrival would be n²/2 = 2e8.
    assert.ok(examined <= 4 * n, `${examined} bytes examined for ${n}`);
  });
});

describe("ChunkQueue takeLines", () => {
  const LIMIT = 4;
  for (const [length, handed] of [
    [LIMIT - 1, true],
    [LIMIT, true],
    [LIMIT + 1, false],
  ] as const) {
    test(`a line of ${length} bytes with a limit of ${LIMIT} is ${handed ? "handed over" : "left"}`, () => {
      const line = `${"x".repeat(length)}\n`;
      const queue = queueOf(`${line}rest`);
      const lines = sink();
      assert.equal(queue.takeLines(LIMIT, lines), handed ? 1 : 0);
      assert.deepEqual(lines.lines, handed ? [line] : []);
      assert.equal(queue.size, handed ? 4 : line.length + 4);
    });
  }

  test("lines inside one chunk are handed in place; a line across chunks is joined", () => {
    const chunk = b("a\nbb\ncc");
    const queue = new ChunkQueue();
    queue.append(chunk);
    queue.append(b("c\nd"));
    const lines = sink();
    assert.equal(queue.takeLines(100, lines), 3);
    assert.deepEqual(lines.lines, ["a\n", "bb\n", "ccc\n"]);
    assert.equal(lines.views[0], chunk);
    assert.equal(lines.views[1], chunk);
    assert.equal(text(queue.take(queue.size)), "d");
  });

  test("stops after the line for which onLine returns false, that line consumed", () => {
    const queue = queueOf("1\n2\n3\n");
    const lines = sink(2);
    assert.equal(queue.takeLines(100, lines), 2);
    assert.equal(text(queue.take(queue.size)), "3\n");
  });
});

describe("ChunkQueue discardLine", () => {
  test("drops through the first newline at or after from when it is buffered", () => {
    const queue = queueOf("xx\nxxxx", "xx\nnext");
    assert.equal(queue.discardLine(4), true);
    assert.equal(queue.discarding, false);
    assert.equal(text(queue.take(queue.size)), "next");
  });

  test("without a newline it drops everything and then what arrives through the next one", () => {
    const queue = queueOf("xxxx");
    assert.equal(queue.discardLine(0), false);
    assert.equal(queue.size, 0);
    assert.equal(queue.discarding, true);
    queue.append(b("yy"));
    queue.append(Buffer.alloc(0));
    assert.equal(queue.size, 0);
    assert.equal(queue.discarding, true);
    queue.append(b("y\nnext\n"));
    assert.equal(queue.discarding, false);
    assert.equal(text(queue.take(queue.size)), "next\n");
  });

  test("with more = false it does not start discarding, and stopDiscarding ends it", () => {
    const queue = queueOf("xxxx");
    queue.discardLine(0, false);
    assert.equal(queue.discarding, false);
    queue.append(b("x"));
    queue.discardLine(0);
    assert.equal(queue.discarding, true);
    queue.stopDiscarding();
    queue.append(b("kept"));
    assert.equal(text(queue.take(4)), "kept");
  });
});

describe("ChunkQueue properties", () => {
  const bytesArb = fc
    .array(fc.constantFrom("a", "b", "\n", "\r", "E", "N", "D"), { maxLength: 120 })
    .map((chars) => chars.join(""));
  const sizesArb = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 20 });
  const sepArb = fc.constantFrom("\n", "\r\n", "END", "NN");

  /** What a queue gives for `parts` when the taking is interleaved with the appending. */
  function tokens(parts: string[], sep: string): { tokens: string[]; rest: string } {
    const queue = new ChunkQueue();
    const found: string[] = [];
    for (const part of parts) {
      queue.append(b(part));
      for (let token = queue.takeThrough(b(sep)); token !== null; token = queue.takeThrough(b(sep)))
        found.push(text(token) as string);
    }
    return { tokens: found, rest: text(queue.take(queue.size)) as string };
  }

  test("any chunking of the same bytes gives the same tokens and leftover", () => {
    fc.assert(
      fc.property(bytesArb, sizesArb, sepArb, (bytes, sizes, sep) => {
        const expected = tokens([bytes], sep);
        assert.deepEqual(tokens(cut(bytes, sizes), sep), expected);
        // And both agree with splitting the string itself.
        const pieces = bytes.split(sep);
        const rest = pieces.pop() as string;
        assert.deepEqual(expected, { tokens: pieces.map((p) => p + sep), rest });
      }),
      { numRuns: 300 },
    );
  });

  test("indexOf from any offset, after any take, agrees with the joined bytes' indexOf", () => {
    fc.assert(
      fc.property(
        bytesArb,
        sizesArb,
        sepArb,
        fc.nat({ max: 130 }),
        fc.nat({ max: 20 }),
        (bytes, sizes, sep, from, taken) => {
          const queue = new ChunkQueue();
          for (const part of cut(bytes, sizes)) queue.append(b(part));
          const skip = Math.min(taken, queue.size);
          queue.take(skip);
          const joined = b(bytes).subarray(skip);
          assert.equal(queue.indexOf(b(sep), from), joined.indexOf(b(sep), from), sep);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("any chunking gives the same lines from takeLines and the same leftover", () => {
    fc.assert(
      fc.property(bytesArb, sizesArb, fc.integer({ min: 1, max: 10 }), (bytes, sizes, limit) => {
        const run = (parts: string[]) => {
          const queue = new ChunkQueue();
          const lines = sink();
          for (const part of parts) {
            queue.append(b(part));
            queue.takeLines(limit, lines);
          }
          return { lines: lines.lines, rest: text(queue.take(queue.size)) };
        };
        assert.deepEqual(run(cut(bytes, sizes)), run([bytes]));
      }),
      { numRuns: 300 },
    );
  });
});
