import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { IncompleteReadError, LimitOverrunError } from "../../../src/errors.js";
import { StreamReader } from "../../../src/streams/stream-reader.js";
import { feed, tick } from "../../helpers/fake-transport.js";

/** What a reader sees: bytes cut into chunks, and after which chunks the reader gets to run. */
interface Delivery {
  chunks: string[];
  yields: boolean[];
}

const bytesArb = fc
  .array(fc.constantFrom("a", "b", "\n", "\r", "E", "N", "D"), { maxLength: 80 })
  .map((chars) => chars.join(""));

/** Any way to cut `bytes` into chunks, empty chunks included. */
function deliveryArb(bytes: string): fc.Arbitrary<Delivery> {
  return fc
    .record({
      sizes: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 30 }),
      yields: fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
    })
    .map(({ sizes, yields }) => {
      const chunks: string[] = [];
      let at = 0;
      for (let i = 0; at < bytes.length && i < 200; i++) {
        const size = sizes[i % sizes.length] as number;
        chunks.push(bytes.slice(at, at + size));
        at += size;
      }
      chunks.push(bytes.slice(at));
      return { chunks, yields };
    });
}

/** Feeds a delivery, then EOF, while `consume` reads; returns what `consume` recorded. */
async function run(
  delivery: Delivery,
  limit: number,
  consume: (reader: StreamReader) => Promise<string[]>,
): Promise<string[]> {
  const reader = new StreamReader({ limit });
  const consuming = consume(reader);
  for (const [i, chunk] of delivery.chunks.entries()) {
    feed(reader, chunk);
    if (delivery.yields[i % delivery.yields.length]) await tick();
  }
  reader.feedEof();
  return consuming;
}

async function readLines(reader: StreamReader): Promise<string[]> {
  const seen: string[] = [];
  for (;;) {
    try {
      const line = await reader.readLine();
      if (line.length === 0) return seen;
      seen.push(line.toString("latin1"));
    } catch (error) {
      if (!(error instanceof LimitOverrunError)) throw error;
      seen.push("<limit>");
    }
  }
}

async function readRecords(reader: StreamReader): Promise<string[]> {
  const seen: string[] = [];
  for (;;) {
    try {
      seen.push((await reader.readUntil(["\r\n", "END"])).toString("latin1"));
    } catch (error) {
      if (!(error instanceof IncompleteReadError)) throw error;
      // "!" marks the partial record; the byte alphabet never contains it.
      if (error.partial.length > 0) seen.push(`!${error.partial.toString("latin1")}`);
      return seen;
    }
  }
}

/** The contract of readLine, written out: lines longer than `limit` (without `\n`) fail. */
function expectedLines(bytes: string, limit: number): string[] {
  const out: string[] = [];
  let rest = bytes;
  while (rest.length > 0) {
    const newline = rest.indexOf("\n");
    const body = newline === -1 ? rest : rest.slice(0, newline);
    out.push(body.length > limit ? "<limit>" : body + (newline === -1 ? "" : "\n"));
    rest = newline === -1 ? "" : rest.slice(newline + 1);
  }
  return out;
}

describe("StreamReader chunking properties", () => {
  test("any chunking of the same bytes gives the same readLine results, over-limit lines included", async () => {
    await fc.assert(
      fc.asyncProperty(
        bytesArb.chain((bytes) =>
          fc.tuple(fc.constant(bytes), deliveryArb(bytes), fc.integer({ min: 1, max: 8 })),
        ),
        async ([bytes, delivery, limit]) => {
          const seen = await run(delivery, limit, readLines);
          assert.deepEqual(seen, expectedLines(bytes, limit));
        },
      ),
      { numRuns: 300 },
    );
  });

  test("any chunking of the same bytes gives the same readUntil records with multi-byte separators", async () => {
    await fc.assert(
      fc.asyncProperty(
        bytesArb.chain((bytes) => fc.tuple(fc.constant(bytes), deliveryArb(bytes))),
        async ([bytes, delivery]) => {
          const whole = await run({ chunks: [bytes], yields: [true] }, 1024, readRecords);
          const seen = await run(delivery, 1024, readRecords);
          assert.deepEqual(seen, whole);
          assert.equal(seen.map((r) => r.replace(/^!/, "")).join(""), bytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("async iteration over lines sees every byte exactly once under any chunking", async () => {
    await fc.assert(
      fc.asyncProperty(
        bytesArb.chain((bytes) => fc.tuple(fc.constant(bytes), deliveryArb(bytes))),
        async ([bytes, delivery]) => {
          const seen = await run(delivery, 1024, async (reader) => {
            const lines: string[] = [];
            for await (const line of reader) lines.push(line.toString("latin1"));
            return lines;
          });
          assert.equal(seen.join(""), bytes);
          assert.deepEqual(seen, expectedLines(bytes, 1024));
        },
      ),
      { numRuns: 200 },
    );
  });
});
