import { LimitOverrunError } from "../errors.js";

/** Options of {@link StreamReader.lines}. */
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
 * The lines `readLine` returns, until the empty one at EOF; with `skip`, a
 * LimitOverrunError is passed over instead of ending the iteration.
 */
export async function* readLines(
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
