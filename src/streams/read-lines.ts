import { LimitOverrunError } from "../errors.js";

/** Options of `StreamReader.lines`. */
export interface LinesOptions {
  /** Cancels the waiting read; the iteration then throws the signal's reason. */
  signal?: AbortSignal | undefined;
  /**
   * What an over-long line does: `"throw"` (the default) ends the iteration
   * with a LimitOverrunError; `"skip"` drops the line (as `readLine` does) and
   * goes on with the next.
   */
  onTooLong?: "throw" | "skip" | undefined;
}

/**
 * The lines `readLine(options)` returns, until the empty one at EOF, as
 * `StreamReader.lines` documents.
 * @throws {RangeError} at once for an `onTooLong` other than "throw" or "skip".
 */
export function readLines(
  readLine: (options: { signal?: AbortSignal | undefined } | undefined) => Promise<Buffer>,
  options: LinesOptions,
): AsyncGenerator<Buffer, void, undefined> {
  const onTooLong = options.onTooLong ?? "throw";
  if (onTooLong !== "throw" && onTooLong !== "skip") {
    throw new RangeError(`Invalid onTooLong: must be "throw" or "skip", got ${String(onTooLong)}`);
  }
  const readOptions = options.signal === undefined ? undefined : { signal: options.signal };
  return iterate(() => readLine(readOptions), onTooLong === "skip");
}

async function* iterate(
  readLine: () => Promise<Buffer>,
  skip: boolean,
): AsyncGenerator<Buffer, void, undefined> {
  for (;;) {
    let line: Buffer;
    try {
      line = await readLine();
    } catch (error) {
      if (skip && error instanceof LimitOverrunError) continue;
      throw error;
    }
    if (line.length === 0) return;
    yield line;
  }
}

/** The iterator of `for await (const line of reader)`: `readLine()` until the empty line at EOF. */
export function lineIterator(readLine: () => Promise<Buffer>): AsyncIterator<Buffer> {
  const next = (): Promise<IteratorResult<Buffer>> =>
    readLine().then((line) =>
      line.length === 0 ? { done: true, value: undefined } : { done: false, value: line },
    );
  return { next };
}
