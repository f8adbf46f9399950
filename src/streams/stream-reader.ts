import {
  abortReason,
  ConcurrentReadError,
  IncompleteReadError,
  InvalidStateError,
  LimitOverrunError,
} from "../errors.js";
import type { Transport } from "../protocols/transport.js";
import { ChunkQueue } from "./chunk-queue.js";
import { type LinesOptions, readLines } from "./read-lines.js";
import { resolveLimit } from "./resolve-limit.js";
import { SignalWatch } from "./signal-watch.js";

export { DEFAULT_LIMIT, resolveLimit } from "./resolve-limit.js";
export type { LinesOptions } from "./read-lines.js";

/** Options of a {@link StreamReader}. */
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

/** Options of a single read. */
export interface ReadOptions {
  /** Cancels the read while it waits. Buffered data is kept: a cancelled read consumes nothing. */
  signal?: AbortSignal | undefined;
}

/** A separator for `readUntil`: a string (UTF-8) or bytes. */
export type Separator = string | Uint8Array;

/** Receives the lines of {@link StreamReader.readLinesNow}. */
export interface LineVisitor {
  /**
   * One line, `\n` included: `bytes[start, end)`, valid only during the call.
   * Return false to stop after it.
   */
  onLine(bytes: Buffer, start: number, end: number): boolean;
}

const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;
const NEWLINE_BUFFER = Buffer.of(NEWLINE);
const NEWLINE_SEPARATORS = [NEWLINE_BUFFER];

// What completes the read in progress. An async read's loop (LOOP) is woken by
// any new data and looks again itself; read(n) (CHUNK) and readLine (LINE) are
// completed here, straight from feedData, which saves them an async frame and a
// promise hop per wait.
const LOOP = 0;
const CHUNK = 1;
const LINE = 2;

/** The one read in progress (CPython's `_waiter`); `resolve` is set while it waits. */
interface PendingRead {
  readonly kind: typeof LOOP | typeof CHUNK | typeof LINE;
  /** CHUNK: the most bytes to return. */
  readonly size: number;
  readonly options: ReadOptions | undefined;
  signal: AbortSignal | undefined;
  resolve: ((value: Buffer | PromiseLike<Buffer> | undefined) => void) | undefined;
  reject: ((error: Error) => void) | undefined;
}

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
 * where it stopped (see {@link ChunkQueue}).
 */
export class StreamReader implements AsyncIterable<Buffer> {
  readonly #limit: number;
  readonly #highWaterMark: number;
  readonly #queue = new ChunkQueue();
  #eof = false;
  #exception: Error | undefined;
  #read: PendingRead | undefined;
  #transport: Transport | undefined;
  #paused = false;
  // The signal this reader is registered with; it outlives a read (see SignalWatch).
  #watched: AbortSignal | undefined;

  constructor(options: StreamReaderOptions = {}) {
    this.#limit = resolveLimit(options.limit);
    const highWaterMark = options.highWaterMark ?? 2 * this.#limit;
    if (!Number.isSafeInteger(highWaterMark) || highWaterMark <= 0) {
      throw new RangeError(
        `Invalid highWaterMark: must be a positive integer, got ${highWaterMark}`,
      );
    }
    this.#highWaterMark = highWaterMark;
  }

  /** The reader's limit in bytes. */
  get limit(): number {
    return this.#limit;
  }

  /** The flow-control threshold in bytes (see {@link StreamReaderOptions.highWaterMark}). */
  get highWaterMark(): number {
    return this.#highWaterMark;
  }

  /** Bytes buffered and not yet read. */
  get bufferedSize(): number {
    return this.#queue.size;
  }

  /**
   * True while the reader is dropping the rest of an over-long line: a
   * `readLine` rejected with {@link LimitOverrunError} before that line's `\n`
   * arrived. Arriving bytes are dropped up to and including the `\n`; then it
   * is false again. False at EOF. A line server's slowloris guard counts this
   * as a line in progress even though `bufferedSize` is 0.
   */
  get discardingLine(): boolean {
    return this.#queue.discarding;
  }

  /**
   * Attaches the transport that flow control pauses and resumes.
   * @throws {InvalidStateError} when a transport is already set.
   */
  setTransport(transport: Transport): void {
    if (this.#transport !== undefined) {
      throw new InvalidStateError("Cannot set transport: already set");
    }
    this.#transport = transport;
  }

  /**
   * Adds bytes at the end of the buffer. Empty chunks are ignored. The reader
   * may keep `data` by reference: do not change it afterwards.
   * @throws {InvalidStateError} after `feedEof`.
   */
  feedData(data: Buffer): void {
    if (this.#eof) throw new InvalidStateError("Cannot feed data: EOF was already fed");
    const queue = this.#queue;
    const read = this.#read;
    const waiting = read !== undefined && read.resolve !== undefined;
    // The common cases, a read(n) or readLine waiting on an empty buffer for a
    // chunk that is exactly what it needs: hand the chunk over without queueing it.
    if (waiting && queue.size === 0 && !queue.discarding && data.length > 0) {
      if (
        (read.kind === CHUNK && data.length <= read.size) ||
        (read.kind === LINE && data.length <= this.#limit + 1 && isOneLine(data))
      ) {
        this.#settle(undefined, data);
        return;
      }
    }
    const before = queue.size;
    queue.append(data);
    if (queue.size === before) return;
    if (waiting) this.#deliver(read);
    if (!this.#paused && this.#transport !== undefined && queue.size > this.#highWaterMark) {
      this.#paused = true;
      this.#transport.pauseReading();
    }
  }

  /** Marks the end of the stream: reads return what is buffered, then empty. Idempotent. */
  feedEof(): void {
    this.#eof = true;
    this.#queue.stopDiscarding();
    this.#unwatch();
    const read = this.#read;
    if (read?.resolve !== undefined) this.#deliver(read);
  }

  /** Makes every later read (and the waiting one) reject with `error`. */
  setException(error: Error): void {
    this.#exception = error;
    this.#unwatch();
    this.#settle(error);
  }

  /** The error given to `setException`, if any. */
  exception(): Error | undefined {
    return this.#exception;
  }

  /** True when EOF was fed and the buffer is empty. */
  atEof(): boolean {
    return this.#eof && this.#queue.size === 0;
  }

  /**
   * Reads up to `n` bytes. `n = -1` (the default) reads until EOF; `n = 0`
   * returns an empty buffer at once. Returns as soon as some data is buffered;
   * an empty buffer means EOF.
   */
  read(n = -1, options?: ReadOptions): Promise<Buffer> {
    if (n > 0 && Number.isSafeInteger(n) && this.#read === undefined && !this.#exception) {
      const size = this.#queue.size;
      if (size > 0) return Promise.resolve(this.#take(Math.min(n, size)));
      if (this.#eof) return Promise.resolve(EMPTY);
      return this.#request(CHUNK, n, options);
    }
    return this.#readLoop(n, options);
  }

  async #readLoop(n: number, options?: ReadOptions): Promise<Buffer> {
    if (!Number.isSafeInteger(n) || n < -1) throw new RangeError(`Invalid read size: ${n}`);
    this.#begin("read", options);
    try {
      if (n === 0) return EMPTY;
      if (n === -1) {
        while (!this.#eof) await this.#wait();
        return this.#take(this.#queue.size);
      }
      while (this.#queue.size === 0 && !this.#eof) await this.#wait();
      return this.#take(Math.min(n, this.#queue.size));
    } finally {
      this.#read = undefined;
    }
  }

  /**
   * Reads exactly `n` bytes. At EOF before `n` bytes it rejects with
   * {@link IncompleteReadError}, whose `partial` holds (and consumes) what was there.
   */
  readExactly(n: number, options?: ReadOptions): Promise<Buffer> {
    // Fast path (a length-prefixed framing's every read): the bytes are buffered.
    if (this.#read === undefined && !this.#exception && n >= 0 && n <= this.#queue.size) {
      if (Number.isSafeInteger(n)) return Promise.resolve(this.#take(n));
    }
    return this.#readExactlyLoop(n, options);
  }

  async #readExactlyLoop(n: number, options?: ReadOptions): Promise<Buffer> {
    checkSize(n);
    this.#begin("readExactly", options);
    try {
      for (;;) {
        const bytes = this.#exactlyNow(n);
        if (bytes !== null) return bytes;
        await this.#wait();
      }
    } finally {
      this.#read = undefined;
    }
  }

  /**
   * The synchronous twin of {@link readExactly}, for framings parsed in one
   * burst (length-prefixed): the next `n` bytes if they are buffered, else
   * `null`, consuming nothing, when more may still arrive. `n = 0` returns an
   * empty buffer.
   * @throws {RangeError} for a negative or fractional `n`.
   * @throws {IncompleteReadError} at EOF before `n` bytes (consuming them, as `readExactly`).
   * @throws {ConcurrentReadError} while another read waits; the `setException` error once set.
   */
  readExactlyNow(n: number): Buffer | null {
    checkSize(n);
    this.#check("readExactlyNow");
    return this.#exactlyNow(n);
  }

  #exactlyNow(n: number): Buffer | null {
    const size = this.#queue.size;
    if (size >= n) return this.#take(n);
    if (this.#eof) throw new IncompleteReadError(this.#take(size), n);
    return null;
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
    if (this.#read === undefined && !this.#exception && !this.#eof) {
      if (this.#queue.size <= this.#limit) return this.#request(LINE, 0, options);
    }
    return this.#readLineLoop(options);
  }

  /**
   * Returns the next line, `\n` included, if it is already buffered whole and
   * within the limit; otherwise returns `null` without waiting or consuming
   * anything. Never throws: EOF, a partial last line, an over-long line and
   * errors are left for `readLine`. Null also while another read is waiting.
   *
   * A line server answers every buffered line with it in one synchronous
   * burst, then writes the replies together and awaits `readLine` for more.
   */
  readLineNow(): Buffer | null {
    if (this.#read !== undefined || this.#exception !== undefined) return null;
    return this.#lineNow();
  }

  /**
   * Consumes every whole line already buffered, in order, handing each to
   * `visitor.onLine(bytes, start, end)` without allocating: the line, its `\n`
   * included, is `bytes[start, end)`. Stops, returning how many lines it
   * handed over, when no whole line within the limit is left or after
   * `onLine` returns false (that line is consumed). Never waits or throws
   * for the reader's sake: EOF, a partial last line, an over-long line and
   * errors are left for `readLine`, as with {@link readLineNow}.
   *
   * The bytes are the reader's own and are reused once `onLine` returns: copy
   * what must outlive the call. `onLine` must not read from this reader.
   * A line that straddles received chunks is copied into one Buffer first.
   *
   * This is {@link readLineNow} for servers that answer a pipelined burst
   * line by line: it saves a Buffer object per line.
   */
  readLinesNow(visitor: LineVisitor): number {
    if (this.#read !== undefined || this.#exception !== undefined) return 0;
    const count = this.#queue.takeLines(this.#limit, visitor);
    this.#resumeIfDrained();
    return count;
  }

  /** Takes a whole line within the limit, or returns null. */
  #lineNow(): Buffer | null {
    const end = this.#queue.find(NEWLINE_BUFFER);
    if (end === -1 || end > this.#limit) return null;
    return this.#take(end + 1);
  }

  /** EOF, more than `limit` bytes, another read or an error: returns the partial line or fails. */
  async #readLineLoop(options?: ReadOptions): Promise<Buffer> {
    try {
      return await this.#readUntil(NEWLINE_SEPARATORS, options, "readLine");
    } catch (error) {
      if (error instanceof IncompleteReadError) return error.partial;
      if (error instanceof LimitOverrunError) {
        this.#queue.discardLine(error.consumed, !this.#eof);
        this.#resumeIfDrained();
        throw new LimitOverrunError(
          `Cannot read line: exceeded limit of ${this.#limit} bytes`,
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
    if (this.#read === undefined && !this.#exception) {
      try {
        const bytes = this.#untilNow(separators, 0);
        if (bytes !== null) return Promise.resolve(bytes);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#readUntil(separators, options, "readUntil");
  }

  /**
   * The synchronous twin of {@link readUntil}, for framings parsed in one burst
   * (RESP, `\r\n`-terminated tokens): the bytes through the first separator to
   * end if it is buffered, else `null`, consuming nothing, when more may still
   * arrive. Searching again after more data arrives looks only at the new bytes.
   * @throws {TypeError} / {RangeError} for an invalid separator, as `readUntil`.
   * @throws {LimitOverrunError} when no separator starts within `limit` bytes;
   *   every byte stays buffered, as `readUntil`.
   * @throws {IncompleteReadError} at EOF without a separator (consuming the rest).
   * @throws {ConcurrentReadError} while another read waits; the `setException` error once set.
   */
  readUntilNow(separator: Separator | Separator[] = "\n"): Buffer | null {
    const separators = toSeparators(separator);
    this.#check("readUntilNow");
    return this.#untilNow(separators, 0);
  }

  async #readUntil(separators: Buffer[], options: ReadOptions | undefined, method: string) {
    this.#begin(method, options);
    try {
      const longest = Math.max(...separators.map((s) => s.length));
      let from = 0;
      for (;;) {
        const bytes = this.#untilNow(separators, from);
        if (bytes !== null) return bytes;
        // No match starts before this; one may straddle it and the next chunk.
        from = Math.max(0, this.#queue.size + 1 - longest);
        await this.#wait();
      }
    } finally {
      this.#read = undefined;
    }
  }

  /** The bytes through the separator that ends first, if buffered; throws past the limit or at EOF. */
  #untilNow(separators: Buffer[], from: number): Buffer | null {
    const queue = this.#queue;
    let matchStart = -1;
    let matchEnd = Number.POSITIVE_INFINITY;
    if (separators.length === 1) {
      const sep = separators[0] as Buffer;
      matchStart = queue.find(sep);
      matchEnd = matchStart + sep.length;
    } else {
      for (const sep of separators) {
        const at = queue.indexOf(sep, from);
        if (at !== -1 && at + sep.length < matchEnd) {
          matchStart = at;
          matchEnd = at + sep.length;
        }
      }
    }
    if (matchStart !== -1) {
      if (matchStart > this.#limit) {
        throw new LimitOverrunError(
          "Separator is found, but chunk is longer than limit",
          matchStart,
        );
      }
      return this.#take(matchEnd);
    }
    const longest = Math.max(...separators.map((s) => s.length));
    const consumed = Math.max(0, queue.size + 1 - longest);
    if (consumed > this.#limit) {
      throw new LimitOverrunError(
        `Cannot read until separator: not found within the limit of ${this.#limit} bytes`,
        consumed,
      );
    }
    if (this.#eof) throw new IncompleteReadError(this.#take(queue.size), null);
    return null;
  }

  /** Iterates over lines (as `readLine`) until EOF. */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const next = (): Promise<IteratorResult<Buffer>> =>
      this.readLine().then((line) =>
        line.length === 0 ? { done: true, value: undefined } : { done: false, value: line },
      );
    return { next };
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
    const onTooLong = options.onTooLong ?? "throw";
    if (onTooLong !== "throw" && onTooLong !== "skip") {
      throw new RangeError(
        `Invalid onTooLong: must be "throw" or "skip", got ${String(onTooLong)}`,
      );
    }
    const skip = onTooLong === "skip";
    const readOptions = options.signal === undefined ? undefined : { signal: options.signal };
    return readLines(() => this.readLine(readOptions), skip);
  }

  /** Refuses a read while another is in progress, or after `setException`. */
  #check(method: string): void {
    if (this.#read !== undefined) throw new ConcurrentReadError(method);
    if (this.#exception !== undefined) throw this.#exception;
  }

  /** Starts an async read's loop (LOOP); its `finally` ends it. */
  #begin(method: string, options: ReadOptions | undefined): void {
    this.#check(method);
    this.#read = {
      kind: LOOP,
      size: 0,
      options,
      signal: undefined,
      resolve: undefined,
      reject: undefined,
    };
  }

  /** Waits for more data (or EOF) in an async read's loop; the loop looks again. */
  async #wait(): Promise<void> {
    const read = this.#read as PendingRead;
    await this.#request(LOOP, 0, read.options);
  }

  /** Makes the read in progress wait: `kind` says what completes it (see {@link #deliver}). */
  #request(kind: PendingRead["kind"], size: number, options?: ReadOptions): Promise<Buffer> {
    if (this.#exception !== undefined) return Promise.reject(this.#exception);
    const signal = options?.signal;
    if (signal !== undefined) {
      if (signal.aborted) return Promise.reject(abortReason(signal));
      if (signal !== this.#watched) {
        this.#unwatch();
        this.#watched = signal;
        StreamReader.#watch.add(signal, this);
      }
    }
    // Waiting means the buffer does not hold what the read needs: let data in again.
    if (this.#paused) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
    let read = this.#read;
    if (read === undefined) {
      read = { kind, size, options, signal, resolve: undefined, reject: undefined };
      this.#read = read;
    } else {
      read.signal = signal;
    }
    const pending = read;
    return new Promise<Buffer>((resolve, reject) => {
      pending.resolve = resolve as PendingRead["resolve"];
      pending.reject = reject;
    });
  }

  /** New data or EOF arrived while `read` waits: completes it if it can. */
  #deliver(read: PendingRead): void {
    const size = this.#queue.size;
    if (read.kind === CHUNK) {
      if (size > 0) this.#settle(undefined, this.#take(Math.min(read.size, size)));
      else if (this.#eof) this.#settle(undefined, EMPTY);
    } else if (read.kind === LINE) {
      const line = this.#lineNow();
      if (line !== null) this.#settle(undefined, line);
      else if (this.#eof || size > this.#limit) {
        this.#settle(undefined, undefined, () => this.#readLineLoop(read.options));
      }
    } else {
      this.#settle();
    }
  }

  /** Ends the wait, if any: with `error`, with `value`, or with what `then` returns. */
  #settle(error?: Error, value?: Buffer, then?: () => Promise<Buffer>): void {
    const read = this.#read;
    if (read === undefined) return;
    const { resolve, reject } = read;
    if (resolve === undefined || reject === undefined) return;
    read.resolve = undefined;
    read.reject = undefined;
    read.signal = undefined;
    // A LOOP read goes on after its wait and ends in its own `finally`.
    if (read.kind !== LOOP) this.#read = undefined;
    if (error !== undefined) reject(error);
    else resolve(then === undefined ? value : then());
  }

  // A watched signal aborted: cancels the reader's wait if it is the one waiting on it.
  static readonly #watch = new SignalWatch<StreamReader>((reader, signal) => {
    if (reader.#read?.signal === signal) reader.#settle(abortReason(signal));
  });

  #unwatch(): void {
    if (this.#watched !== undefined) StreamReader.#watch.remove(this.#watched, this);
    this.#watched = undefined;
  }

  #take(n: number): Buffer {
    const bytes = this.#queue.take(n);
    this.#resumeIfDrained();
    return bytes;
  }

  /** Lets data in again once a paused reader is down to half the high-water mark. */
  #resumeIfDrained(): void {
    if (this.#paused && this.#queue.size <= this.#highWaterMark / 2) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
  }
}

function checkSize(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Invalid read size: ${n}`);
}

/** Whether `data` holds one `\n`, at its end. */
function isOneLine(data: Buffer): boolean {
  return data.indexOf(NEWLINE) === data.length - 1;
}

function toSeparators(separator: Separator | Separator[]): Buffer[] {
  const list = Array.isArray(separator) ? separator : [separator];
  if (list.length === 0) throw new RangeError("Invalid separator: at least one is required");
  return list.map((sep) => {
    if (typeof sep !== "string" && !(sep instanceof Uint8Array)) {
      throw new TypeError("Invalid separator: expected a string or Uint8Array");
    }
    const bytes = typeof sep === "string" ? Buffer.from(sep, "utf8") : Buffer.from(sep);
    if (bytes.length === 0) throw new RangeError("Invalid separator: must not be empty");
    return bytes;
  });
}
