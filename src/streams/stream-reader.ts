import { IncompleteReadError, LimitOverrunError } from "../errors.js";
import { BufferedReader } from "./buffered-reader.js";
import { lineIterator, type LinesOptions, readLines } from "./read-lines.js";
import { CHUNK, LINE, type ReadOptions } from "./read-waiter.js";
import { type Separator, toSeparators } from "./separators.js";
import { checkReadSize } from "./stream-reader-options.js";

export type { ChunkVisitor, LineBurstVisitor } from "./buffered-reader.js";
export type { LineVisitor } from "./chunk-queue.js";
export type { LinesOptions } from "./read-lines.js";
export type { ReadOptions } from "./read-waiter.js";
export { DEFAULT_LIMIT, resolveLimit } from "./resolve-limit.js";
export type { Separator } from "./separators.js";
export type { StreamReaderOptions } from "./stream-reader-options.js";
export type { TokenVisitor } from "./take-tokens.js";

const EMPTY = Buffer.alloc(0);
const NEWLINE_SEPARATORS = [Buffer.of(0x0a)];

/**
 * A buffer of bytes received from a connection, read with asyncio's
 * coroutine-style methods. The transport (through its protocol) feeds it with
 * `feedData` / `feedEof` / `setException`; tests may feed it directly.
 *
 * Only one read may be in progress at a time: a read started while another is
 * waiting rejects with {@link ConcurrentReadError} and consumes nothing.
 *
 * Flow control: while more than `highWaterMark` (default 2 × `limit`) bytes
 * are buffered the transport is paused; it resumes once at most half of that
 * remains, or as soon as a read needs more data than is buffered.
 *
 * Memory and time are proportional to the bytes buffered however they arrive:
 * small chunks are joined as they come and a search for a separator resumes
 * where it stopped.
 */
export class StreamReader extends BufferedReader implements AsyncIterable<Buffer> {
  /**
   * Reads up to `n` bytes. `n = -1` (the default) reads until EOF; `n = 0`
   * returns an empty buffer at once. Returns as soon as some data is buffered;
   * an empty buffer means EOF.
   */
  read(n = -1, options?: ReadOptions): Promise<Buffer> {
    if (n > 0 && Number.isSafeInteger(n) && !this.busy_) {
      const size = this.queue_.size;
      if (size > 0) return Promise.resolve(this.take_(Math.min(n, size)));
      if (this.eof_) return Promise.resolve(EMPTY);
      return this.request_(CHUNK, n, options);
    }
    return this.#readLoop(n, options);
  }

  async #readLoop(n: number, options?: ReadOptions): Promise<Buffer> {
    if (!Number.isSafeInteger(n) || n < -1) throw new RangeError(`Invalid read size: ${n}`);
    this.beginLoop_("read", options);
    try {
      if (n === 0) return EMPTY;
      if (n === -1) {
        while (!this.eof_) await this.wait_();
        return this.take_(this.queue_.size);
      }
      while (this.queue_.size === 0 && !this.eof_) await this.wait_();
      return this.take_(Math.min(n, this.queue_.size));
    } finally {
      this.endLoop_();
    }
  }

  /**
   * Reads exactly `n` bytes. At EOF before `n` bytes it rejects with
   * {@link IncompleteReadError}, whose `partial` holds (and consumes) what was there.
   */
  readExactly(n: number, options?: ReadOptions): Promise<Buffer> {
    // Fast path (a length-prefixed framing's every read): the bytes are buffered.
    if (!this.busy_ && n >= 0 && n <= this.queue_.size) {
      if (Number.isSafeInteger(n)) return Promise.resolve(this.take_(n));
    }
    return this.#readExactlyLoop(n, options);
  }

  async #readExactlyLoop(n: number, options?: ReadOptions): Promise<Buffer> {
    checkReadSize(n);
    this.beginLoop_("readExactly", options);
    try {
      for (;;) {
        const bytes = this.exactlyNow_(n);
        if (bytes !== null) return bytes;
        await this.wait_();
      }
    } finally {
      this.endLoop_();
    }
  }

  /**
   * Reads one line, ending with `\n` (included). At EOF it returns the partial
   * line without `\n`, and then empty buffers.
   *
   * A line longer than `limit` bytes (not counting its `\n`) rejects with
   * {@link LimitOverrunError} and is discarded whole: the buffered part at once,
   * the rest as it arrives, up to and including its `\n` (see
   * {@link discardingLine}). The next `readLine` returns the line after it, so
   * a line server can answer an error and go on.
   */
  readLine(options?: ReadOptions): Promise<Buffer> {
    // Fast path: a whole line already buffered, no promise machinery beyond the result.
    const line = this.readLineNow();
    if (line !== null) return Promise.resolve(line);
    if (!this.busy_ && !this.eof_) {
      if (this.queue_.size <= this.limit) return this.request_(LINE, 0, options);
    }
    return this.readLineLoop_(options);
  }

  /** EOF, more than `limit` bytes, another read or an error: returns the partial line or fails. */
  protected async readLineLoop_(options?: ReadOptions): Promise<Buffer> {
    try {
      return await this.#readUntil(NEWLINE_SEPARATORS, options, "readLine");
    } catch (error) {
      if (error instanceof IncompleteReadError) return error.partial;
      if (error instanceof LimitOverrunError) {
        this.queue_.discardLine(error.consumed, !this.eof_);
        this.resumeIfDrained_();
        throw new LimitOverrunError(
          `Cannot read line: exceeded limit of ${this.limit} bytes`,
          error.consumed,
        );
      }
      throw error;
    }
  }

  /**
   * Reads up to and including `separator` (or the first of several to end in
   * the data). At EOF first it rejects with {@link IncompleteReadError}, whose
   * `partial` holds (and consumes) the rest of the data.
   *
   * If no separator starts within `limit` bytes it rejects with
   * {@link LimitOverrunError}; the data stays buffered (as asyncio's
   * `readuntil`), so the caller may `read` it or `readExactly(consumed)`.
   */
  readUntil(separator: Separator | Separator[] = "\n", options?: ReadOptions): Promise<Buffer> {
    let separators: Buffer[];
    try {
      separators = toSeparators(separator);
    } catch (error) {
      return Promise.reject(error);
    }
    // Fast path: the separator is buffered (or the answer is an error) without waiting.
    if (!this.busy_) {
      try {
        const bytes = this.untilNow_(separators, 0);
        if (bytes !== null) return Promise.resolve(bytes);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#readUntil(separators, options, "readUntil");
  }

  async #readUntil(separators: Buffer[], options: ReadOptions | undefined, method: string) {
    this.beginLoop_(method, options);
    try {
      const longest = Math.max(...separators.map((s) => s.length));
      let from = 0;
      for (;;) {
        const bytes = this.untilNow_(separators, from);
        if (bytes !== null) return bytes;
        // No match starts before this; one may straddle it and the next chunk.
        from = Math.max(0, this.queue_.size + 1 - longest);
        await this.wait_();
      }
    } finally {
      this.endLoop_();
    }
  }

  /** Iterates over lines (as `readLine`) until EOF. */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return lineIterator(() => this.readLine());
  }

  /**
   * Iterates over lines as `readLine` does, until EOF (the partial last line
   * included), with the options `for await (… of reader)` cannot take:
   * `signal` cancels the waiting read (the iteration throws its reason) and
   * `onTooLong` says what an over-long line does: `"throw"` (the default) ends
   * the iteration with {@link LimitOverrunError}; `"skip"` drops that line
   * and goes on with the next. Breaking out of the loop consumes nothing more.
   * @throws {RangeError} at once for an `onTooLong` other than those two.
   */
  lines(options: LinesOptions = {}): AsyncGenerator<Buffer, void, undefined> {
    return readLines((readOptions) => this.readLine(readOptions), options);
  }
}
