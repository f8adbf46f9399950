import { resolveLimit } from "./resolve-limit.js";

/** Options of a `StreamReader`. */
export interface StreamReaderOptions {
  /**
   * The most bytes `readLine` / `readUntil` look through for a separator.
   * Default 64 KiB.
   */
  limit?: number;
  /**
   * Flow control: the transport is paused while more than `highWaterMark`
   * bytes are buffered, and resumed once at most half of it remain (or as soon
   * as a read needs more than is buffered). A positive integer; default
   * 2 × `limit`, so the limit alone sets both, as before this option.
   */
  highWaterMark?: number;
}

/**
 * Checks a reader's options and applies the defaults, so a server or client
 * can reject bad ones before a socket opens.
 * @throws {RangeError} for a `limit` or `highWaterMark` that is not a positive integer.
 */
export function resolveReaderOptions(options: StreamReaderOptions): Required<StreamReaderOptions> {
  const limit = resolveLimit(options.limit);
  const highWaterMark = options.highWaterMark ?? 2 * limit;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark <= 0) {
    throw new RangeError(`Invalid highWaterMark: must be a positive integer, got ${highWaterMark}`);
  }
  return { limit, highWaterMark };
}

/**
 * Checks the size of a `readExactly`: a safe integer, 0 or more.
 * @throws {RangeError} otherwise.
 */
export function checkReadSize(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Invalid read size: ${n}`);
}
