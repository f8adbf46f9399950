import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ChunkQueue } from "../../../src/streams/chunk-queue.js";
import { StreamReader } from "../../../src/streams/stream-reader.js";
import { withTimeout } from "../../helpers/with-timeout.js";

// The test runner starts files without --expose-gc; this flag, set at run time,
// makes `gc` available to a new context, so heap figures do not depend on when
// the collector last ran.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Heap and ArrayBuffer bytes in use after a full collection. */
function used(): number {
  gc();
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

const N = 60_000;
const byte = (i: number) => Buffer.of(0x61 + (i % 26));

describe("StreamReader cost for a line that arrives one byte at a time", () => {
  test("60,000 one-byte chunks held cost a small multiple of 60,000 bytes of memory", () => {
    const readers: StreamReader[] = [];
    const before = used();
    for (let r = 0; r < 10; r++) {
      const reader = new StreamReader();
      for (let i = 0; i < N; i++) reader.feedData(byte(i));
      readers.push(reader);
    }
    const perReader = (used() - before) / readers.length;
    for (const reader of readers) assert.equal(reader.bufferedSize, N);
    // Joined: ~1-2 bytes per byte held (the tails double). One Buffer kept per
    // chunk was ~180 bytes per byte (11 MB per connection).
    assert.ok(perReader < 6 * N, `${Math.round(perReader)} bytes held per reader for ${N}`);
  });

  const searches: [string, (reader: StreamReader) => Promise<Buffer>, string][] = [
    ["readLine", (reader) => reader.readLine(), "\n"],
    ["readUntil", (reader) => reader.readUntil("\r\n"), "\r\n"],
    ["readUntil with two separators", (reader) => reader.readUntil(["\r\n", "END"]), "END"],
  ];
  for (const [what, start, end] of searches) {
    test(`a waiting ${what} examines a number of bytes linear in the bytes fed`, async () => {
      const reader = new StreamReader();
      const before = ChunkQueue.bytesExamined;
      const pending = start(reader);
      for (let i = 0; i < N; i++) {
        reader.feedData(byte(i));
        // A waiting async loop looks again after each wake: let it.
        if (i % 2 === 0) await Promise.resolve();
      }
      reader.feedData(Buffer.from(end));
      const result = await withTimeout(pending, 10_000, what);
      assert.equal(result.length, N + end.length);
      const examined = ChunkQueue.bytesExamined - before;
      // Starting over on every arrival is N²/2 = 1.8e9 bytes.
      assert.ok(examined <= 8 * N, `${examined} bytes examined for ${N}`);
    });
  }

  test("readLinesNow and readUntilNow called on every arrival examine bytes linear in N", () => {
    const lines = new StreamReader();
    const tokens = new StreamReader();
    const visitor = { onLine: () => true };
    const before = ChunkQueue.bytesExamined;
    for (let i = 0; i < N; i++) {
      lines.feedData(byte(i));
      assert.equal(lines.readLinesNow(visitor), 0);
      tokens.feedData(byte(i));
      assert.equal(tokens.readUntilNow("\r\n"), null);
    }
    lines.feedData(Buffer.from("\n"));
    tokens.feedData(Buffer.from("\r\n"));
    assert.equal(lines.readLineNow()?.length, N + 1);
    assert.equal(tokens.readUntilNow("\r\n")?.length, N + 2);
    const examined = ChunkQueue.bytesExamined - before;
    assert.ok(examined <= 16 * N, `${examined} bytes examined for 2 × ${N}`);
  });
});
