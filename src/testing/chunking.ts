/**
 * How an in-memory connection splits the bytes it carries into `data` events.
 *
 * @module
 */

/**
 * How bytes in flight are cut into `data` events on the receiving end:
 * - `"whole"` (the default): each write arrives as one chunk (a corked batch,
 *   as `writeLines` makes, as one);
 * - `"byte"`: one byte at a time, the worst case for a parser;
 * - `{ size }`: chunks of `size` bytes (the last of a burst may be shorter),
 *   crossing write boundaries as TCP does;
 * - `{ seed }`: random cuts from 1 byte to everything in flight, from a PRNG
 *   seeded with `seed` (an integer), so a failing split can be replayed.
 *
 * A test meant to hold whatever the network does can run once per entry of
 * {@link ALL_CHUNKINGS}.
 */
export type Chunking =
  | "whole"
  | "byte"
  | {
      /** Bytes per chunk, a positive integer. */
      readonly size: number;
    }
  | {
      /** The PRNG seed of the random cuts, an integer. */
      readonly seed: number;
    };

/** One of each kind of {@link Chunking}, for a test to loop over. */
export const ALL_CHUNKINGS: readonly Chunking[] = Object.freeze([
  "whole",
  "byte",
  Object.freeze({ size: 3 }),
  Object.freeze({ seed: 1 }),
  Object.freeze({ seed: 42 }),
]);

/** A short name of `chunking` for test titles: `whole`, `byte`, `size=3`, `seed=42`. */
export function chunkingName(chunking: Chunking): string {
  if (typeof chunking === "string") return chunking;
  return "size" in chunking ? `size=${chunking.size}` : `seed=${chunking.seed}`;
}

/** Gives the length of the next chunk. `whole` is the length of the write at the head; `queued` is every byte in flight. */
export type Cutter = (whole: number, queued: number) => number;

/**
 * The cutter of `chunking`.
 * @throws {TypeError} when `chunking` is none of the {@link Chunking} forms.
 * @throws {RangeError} when `size` is not a positive integer or `seed` not an integer.
 */
export function cutter(chunking: Chunking = "whole"): Cutter {
  if (chunking === "whole") return (whole) => whole;
  if (chunking === "byte") return () => 1;
  if (typeof chunking === "object" && chunking !== null && "size" in chunking) {
    const { size } = chunking;
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new RangeError(`Invalid chunking size: must be a positive integer, got ${size}`);
    }
    return (_whole, queued) => Math.min(size, queued);
  }
  if (typeof chunking === "object" && chunking !== null && "seed" in chunking) {
    const { seed } = chunking;
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`Invalid chunking seed: must be an integer, got ${seed}`);
    }
    const random = mulberry32(seed);
    return (_whole, queued) => 1 + Math.floor(random() * queued);
  }
  throw new TypeError(
    'Invalid chunking: expected "whole", "byte", { size } or { seed }, got ' + String(chunking),
  );
}

/** A small seeded PRNG (uniform in [0, 1)): the same seed gives the same cuts on every run and runtime. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
