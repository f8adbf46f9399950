import {
  abortReason,
  ConcurrentReadError,
  IncompleteReadError,
  LimitOverrunError,
} from "../errors.js";
import type { Transport } from "../protocols/transport.js";

/** Options of a {@link StreamReader}. */
export interface StreamReaderOptions {
  /**
   * The most bytes `readLine` / `readUntil` look through for a separator, and
   * the unit of flow control: the transport is paused while more than
   * 2 × `limit` bytes are buffered. Default 64 KiB.
   */
  limit?: number;
}

/** Options of a single read. */
export interface ReadOptions {
  /** Cancels the read while it waits. Buffered data is kept: a cancelled read consumes nothing. */
  signal?: AbortSignal;
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

/** The default `limit`: 64 KiB, as asyncio. */
export const DEFAULT_LIMIT = 64 * 1024;
const EMPTY = Buffer.alloc(0);
/** What completes the waiting read: any new data (its caller looks again), a chunk, a line. */
const WANT_WAKE = 0;
const WANT_CHUNK = 1;
const WANT_LINE = 2;
const NEWLINE = 0x0a;

/**
 * A buffer of bytes received from a connection, read with asyncio's
 * coroutine-style methods. The transport (through its protocol) feeds it with
 * `feedData` / `feedEof` / `setException`; tests may feed it directly.
 *
 * Only one read may wait at a time: a read started while another is waiting
 * rejects with {@link ConcurrentReadError} and consumes nothing.
 *
 * Flow control: while more than 2 × `limit` bytes are buffered the transport
 * is paused; it resumes once at most `limit` bytes remain, or as soon as a read
 * needs more data than is buffered.
 */
export class StreamReader implements AsyncIterable<Buffer> {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #head = 0;
  #size = 0;
  #eof = false;
  #exception: Error | undefined;
  #busy = false;
  // The waiting read. A plain wait (WANT_WAKE) resolves with nothing and its async
  // caller looks again; read(n) and readLine are completed here, straight from
  // feedData, which saves them an async frame and a promise hop per wait.
  #resolve: ((value: Buffer | PromiseLike<Buffer> | undefined) => void) | undefined;
  #reject: ((error: Error) => void) | undefined;
  #want = WANT_WAKE;
  #wantSize = 0;
  #wantOptions: ReadOptions | undefined;
  #signal: AbortSignal | undefined;
  #waitSignal: AbortSignal | undefined;
  #transport: Transport | undefined;
  #paused = false;
  #discardingLine = false;

  constructor(options: StreamReaderOptions = {}) {
    this.#limit = resolveLimit(options.limit);
  }

  /** The reader's limit in bytes. */
  get limit(): number {
    return this.#limit;
  }

  /** Bytes buffered and not yet read. */
  get bufferedSize(): number {
    return this.#size;
  }

  /** Attaches the transport that flow control pauses and resumes. */
  setTransport(transport: Transport): void {
    if (this.#transport !== undefined) throw new Error("Cannot set transport: already set");
    this.#transport = transport;
  }

  /** Adds bytes at the end of the buffer. Empty chunks are ignored. */
  feedData(data: Buffer): void {
    if (this.#eof) throw new Error("Cannot feed data: EOF was already fed");
    if (this.#discardingLine) {
      const newline = data.indexOf(NEWLINE);
      if (newline === -1) return;
      this.#discardingLine = false;
      data = data.subarray(newline + 1);
    }
    if (data.length === 0) return;
    // The common cases, a read(n) or readLine waiting on an empty buffer for a
    // chunk that is exactly what it needs: hand the chunk over without queueing it.
    if (this.#resolve !== undefined && this.#size === 0) {
      const want = this.#want;
      if (
        (want === WANT_CHUNK && data.length <= this.#wantSize) ||
        (want === WANT_LINE && data.length <= this.#limit + 1 && isOneLine(data))
      ) {
        this.#settle(undefined, data);
        return;
      }
    }
    this.#chunks.push(data);
    this.#size += data.length;
    if (this.#resolve !== undefined) this.#deliver();
    if (!this.#paused && this.#transport !== undefined && this.#size > 2 * this.#limit) {
      this.#paused = true;
      this.#transport.pauseReading();
    }
  }

  /**
   * @internal Removes and returns every buffered byte, for STARTTLS: bytes
   * that arrived after the command belong to the handshake, never to a read.
   * A waiting read keeps waiting; a reader paused by flow control resumes.
   */
  takeBuffered(): Buffer {
    const all = this.#size === 0 ? EMPTY : this.#take(this.#size);
    // A line being discarded ends with the plaintext: what follows is TLS's.
    this.#discardingLine = false;
    return all;
  }

  /** Marks the end of the stream: reads return what is buffered, then empty. Idempotent. */
  feedEof(): void {
    this.#eof = true;
    this.#unlisten();
    if (this.#resolve !== undefined) this.#deliver();
  }

  /** Makes every later read (and the waiting one) reject with `error`. */
  setException(error: Error): void {
    this.#exception = error;
    this.#unlisten();
    this.#settle(error);
  }

  /** The error given to `setException`, if any. */
  exception(): Error | undefined {
    return this.#exception;
  }

  /** True when EOF was fed and the buffer is empty. */
  atEof(): boolean {
    return this.#eof && this.#size === 0;
  }

  /**
   * Reads up to `n` bytes. `n = -1` (the default) reads until EOF; `n = 0`
   * returns an empty buffer at once. Returns as soon as some data is buffered;
   * an empty buffer means EOF.
   */
  read(n = -1, options?: ReadOptions): Promise<Buffer> {
    if (n > 0 && Number.isSafeInteger(n) && !this.#busy && this.#exception === undefined) {
      if (this.#size > 0) return Promise.resolve(this.#take(Math.min(n, this.#size)));
      if (this.#eof) return Promise.resolve(EMPTY);
      return this.#request(WANT_CHUNK, n, options);
    }
    return this.#readGeneral(n, options);
  }

  async #readGeneral(n: number, options?: ReadOptions): Promise<Buffer> {
    if (!Number.isSafeInteger(n) || n < -1) throw new RangeError(`Invalid read size: ${n}`);
    this.#begin("read");
    try {
      if (n === 0) return EMPTY;
      if (n === -1) {
        while (!this.#eof) await this.#wait(options);
        return this.#take(this.#size);
      }
      while (this.#size === 0 && !this.#eof) await this.#wait(options);
      return this.#take(Math.min(n, this.#size));
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Reads exactly `n` bytes. At EOF before `n` bytes it rejects with
   * {@link IncompleteReadError}, whose `partial` holds (and consumes) what was there.
   */
  async readExactly(n: number, options?: ReadOptions): Promise<Buffer> {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Invalid read size: ${n}`);
    this.#begin("readExactly");
    try {
      while (this.#size < n) {
        if (this.#eof) throw new IncompleteReadError(this.#take(this.#size), n);
        await this.#wait(options);
      }
      return this.#take(n);
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Reads one line, ending with `\n` (included). At EOF it returns the partial
   * line without `\n`, and then empty buffers.
   *
   * A line longer than `limit` bytes (not counting its `\n`) rejects with
   * {@link LimitOverrunError} and is discarded whole: the buffered part at once,
   * the rest as it arrives, up to and including its `\n`. The next `readLine`
   * returns the line after it, so a line server can answer an error and go on.
   */
  readLine(options?: ReadOptions): Promise<Buffer> {
    // Fast path: a whole line already buffered, no promise machinery beyond the result.
    const line = this.readLineNow();
    if (line !== null) return Promise.resolve(line);
    if (!this.#busy && this.#exception === undefined && !this.#eof && this.#size <= this.#limit) {
      // No whole line yet: wait for one, searching only the bytes that arrive.
      return this.#request(WANT_LINE, this.#size, options);
    }
    return this.#readLineGeneral(options);
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
    if (this.#busy || this.#exception !== undefined || this.#chunks.length === 0) return null;
    return this.#lineFrom(0);
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
    if (this.#busy || this.#exception !== undefined) return 0;
    const limit = this.#limit;
    let count = 0;
    while (this.#chunks.length > 0) {
      const first = this.#chunks[0] as Buffer;
      const start = this.#head;
      const newline = first.indexOf(NEWLINE, start);
      let bytes: Buffer;
      let from: number;
      let to: number;
      if (newline !== -1) {
        if (newline - start > limit) break;
        bytes = first;
        from = start;
        to = newline + 1;
        this.#size -= to - from;
        if (to === first.length) this.#dropFirst();
        else this.#head = to;
      } else {
        const line = this.#lineFrom(first.length - start);
        if (line === null) break;
        bytes = line;
        from = 0;
        to = line.length;
      }
      count++;
      if (!visitor.onLine(bytes, from, to)) break;
    }
    this.#resumeIfDrained();
    return count;
  }

  /** Takes a whole line within the limit whose `\n` lies at or after `from`, or returns null. */
  #lineFrom(from: number): Buffer | null {
    if (this.#chunks.length === 0) return null;
    const first = this.#chunks[0] as Buffer;
    const inFirst = first.length - this.#head;
    let end: number;
    if (from < inFirst) {
      end = first.indexOf(NEWLINE, this.#head + from);
      if (end !== -1) end -= this.#head;
      else if (this.#chunks.length > 1) end = this.#indexOf(NEWLINE_BUFFER, inFirst);
    } else {
      end = this.#indexOf(NEWLINE_BUFFER, from);
    }
    if (end === -1 || end > this.#limit) return null;
    return this.#take(end + 1);
  }

  /** EOF, more than `limit` bytes, another read or an error: returns the partial line or fails. */
  async #readLineGeneral(options?: ReadOptions): Promise<Buffer> {
    try {
      return await this.#readUntil(NEWLINE_SEPARATORS, options, "readLine");
    } catch (error) {
      if (error instanceof IncompleteReadError) return error.partial;
      if (error instanceof LimitOverrunError) {
        const found = this.#indexOf(NEWLINE_BUFFER, error.consumed);
        if (found === -1) {
          this.#take(this.#size);
          this.#discardingLine = !this.#eof;
        } else {
          this.#take(found + 1);
        }
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
    return this.#readUntil(separators, options, "readUntil");
  }

  async #readUntil(separators: Buffer[], options: ReadOptions | undefined, method: string) {
    const longest = Math.max(...separators.map((s) => s.length));
    this.#begin(method);
    try {
      let from = 0;
      for (;;) {
        let matchStart = -1;
        let matchEnd = Number.POSITIVE_INFINITY;
        for (const sep of separators) {
          const at = this.#indexOf(sep, from);
          if (at !== -1 && at + sep.length < matchEnd) {
            matchStart = at;
            matchEnd = at + sep.length;
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
        from = Math.max(0, this.#size + 1 - longest);
        if (from > this.#limit) {
          throw new LimitOverrunError(
            `Cannot read until separator: not found within the limit of ${this.#limit} bytes`,
            from,
          );
        }
        if (this.#eof) throw new IncompleteReadError(this.#take(this.#size), null);
        await this.#wait(options);
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Iterates over lines (as `readLine`) until EOF. */
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const next = (): Promise<IteratorResult<Buffer>> =>
      this.readLine().then((line) =>
        line.length === 0 ? { done: true, value: undefined } : { done: false, value: line },
      );
    return { next };
  }

  #begin(method: string): void {
    if (this.#busy) throw new ConcurrentReadError(method);
    if (this.#exception !== undefined) throw this.#exception;
    this.#busy = true;
  }

  /** Waits for more data (or EOF); the caller looks again. */
  async #wait(options: ReadOptions | undefined): Promise<void> {
    await this.#request(WANT_WAKE, 0, options);
  }

  /** Starts the waiting read: `want` says what completes it (see {@link #deliver}). */
  #request(want: number, size: number, options: ReadOptions | undefined): Promise<Buffer> {
    if (this.#exception !== undefined) return Promise.reject(this.#exception);
    const signal = options?.signal;
    if (signal !== undefined) {
      if (signal.aborted) return Promise.reject(abortReason(signal));
      if (signal !== this.#signal) this.#listen(signal);
    }
    // Waiting means the buffer does not hold what the read needs: let data in again.
    if (this.#paused) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
    if (want !== WANT_WAKE) this.#busy = true;
    this.#want = want;
    this.#wantSize = size;
    this.#wantOptions = options;
    this.#waitSignal = signal;
    return new Promise<Buffer>((resolve, reject) => {
      this.#resolve = resolve as (value: Buffer | PromiseLike<Buffer> | undefined) => void;
      this.#reject = reject;
    });
  }

  /** New data or EOF arrived while a read waits: completes it if it can. */
  #deliver(): void {
    switch (this.#want) {
      case WANT_CHUNK:
        if (this.#size > 0)
          this.#settle(undefined, this.#take(Math.min(this.#wantSize, this.#size)));
        else if (this.#eof) this.#settle(undefined, EMPTY);
        return;
      case WANT_LINE: {
        const line = this.#lineFrom(this.#wantSize);
        if (line !== null) {
          this.#settle(undefined, line);
        } else if (this.#eof || this.#size > this.#limit) {
          const options = this.#wantOptions;
          this.#settle(undefined, undefined, () => this.#readLineGeneral(options));
        } else {
          this.#wantSize = this.#size;
        }
        return;
      }
      default:
        this.#settle();
    }
  }

  /** Ends the waiting read, if any: with `error`, with `value`, or with what `then` returns. */
  #settle(error?: Error, value?: Buffer, then?: () => Promise<Buffer>): void {
    const resolve = this.#resolve;
    const reject = this.#reject;
    if (resolve === undefined || reject === undefined) return;
    this.#resolve = undefined;
    this.#reject = undefined;
    this.#waitSignal = undefined;
    this.#wantOptions = undefined;
    if (this.#want !== WANT_WAKE) this.#busy = false;
    this.#want = WANT_WAKE;
    if (error !== undefined) reject(error);
    else resolve(then === undefined ? value : then());
  }

  // One listener per signal for every reader, not one per reader or per wait: a
  // server passes the same shutdown signal to every read, adding and removing a
  // listener on each wait showed in the profile, and a listener per reader (its
  // entry and closure) was a tenth of an idle stream connection's heap. A reader
  // stays registered with the signal it last waited on until EOF or an error.
  static readonly #readersBySignal = new WeakMap<AbortSignal, Set<StreamReader>>();

  #listen(signal: AbortSignal): void {
    this.#unlisten();
    this.#signal = signal;
    let readers = StreamReader.#readersBySignal.get(signal);
    if (readers === undefined) {
      const all = new Set<StreamReader>();
      readers = all;
      StreamReader.#readersBySignal.set(signal, all);
      signal.addEventListener(
        "abort",
        () => {
          for (const reader of all) reader.#aborted(signal);
        },
        { once: true },
      );
    }
    readers.add(this);
  }

  #unlisten(): void {
    if (this.#signal !== undefined) StreamReader.#readersBySignal.get(this.#signal)?.delete(this);
    this.#signal = undefined;
  }

  #aborted(signal: AbortSignal): void {
    if (this.#waitSignal === signal) this.#settle(abortReason(signal));
  }

  /** Removes and returns the first `n` bytes (n ≤ size); zero-copy when they lie in one chunk. */
  #take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const chunks = this.#chunks;
    const first = chunks[0] as Buffer;
    const available = first.length - this.#head;
    let result: Buffer;
    if (n < available) {
      result = first.subarray(this.#head, this.#head + n);
      this.#head += n;
    } else if (n === available) {
      result = this.#head === 0 ? first : first.subarray(this.#head);
      this.#dropFirst();
    } else {
      result = Buffer.allocUnsafe(n);
      let copied = 0;
      while (copied < n) {
        const chunk = chunks[0] as Buffer;
        const want = n - copied;
        const have = chunk.length - this.#head;
        if (want < have) {
          chunk.copy(result, copied, this.#head, this.#head + want);
          this.#head += want;
          copied = n;
        } else {
          chunk.copy(result, copied, this.#head);
          copied += have;
          chunks.shift();
          this.#head = 0;
        }
      }
    }
    this.#size -= n;
    this.#resumeIfDrained();
    return result;
  }

  /** Removes the first chunk, read to its end. */
  #dropFirst(): void {
    // Emptied by length = 0, which frees the list's backing store (shift keeps it):
    // an idle connection should hold no chunk list.
    if (this.#chunks.length === 1) this.#chunks.length = 0;
    else this.#chunks.shift();
    this.#head = 0;
  }

  /** Lets data in again once a paused reader is down to `limit` bytes. */
  #resumeIfDrained(): void {
    if (this.#paused && this.#size <= this.#limit) {
      this.#paused = false;
      this.#transport?.resumeReading();
    }
  }

  /** Finds `sep` at or after logical offset `from`; returns its logical offset or -1. */
  #indexOf(sep: Buffer, from: number): number {
    if (this.#chunks.length === 0) return -1;
    if (this.#chunks.length > 1 && sep.length > 1) this.#coalesce();
    // Read the list only now: coalescing replaces it and resets the head.
    const chunks = this.#chunks;
    let base = 0;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i] as Buffer;
      const start = i === 0 ? this.#head : 0;
      const length = chunk.length - start;
      if (from < base + length) {
        const at = chunk.indexOf(sep, start + Math.max(0, from - base));
        if (at !== -1) return base + at - start;
      }
      base += length;
    }
    return -1;
  }

  // Multi-byte separators may straddle chunks; joining is simpler than matching
  // across boundaries and is bounded: it only runs while a separator is missing,
  // which the limit caps at 2 × limit bytes.
  #coalesce(): void {
    const parts = this.#chunks.map((chunk, i) => (i === 0 ? chunk.subarray(this.#head) : chunk));
    this.#chunks = [Buffer.concat(parts, this.#size)];
    this.#head = 0;
  }
}

/**
 * Checks a reader `limit` (a positive integer) and applies the default.
 * @throws {RangeError} for anything else.
 */
export function resolveLimit(limit: number | undefined): number {
  const value = limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Invalid limit: must be a positive integer, got ${value}`);
  }
  return value;
}

/** Whether `data` holds one `\n`, at its end. */
function isOneLine(data: Buffer): boolean {
  return data.indexOf(NEWLINE) === data.length - 1;
}

const NEWLINE_BUFFER = Buffer.from("\n");
const NEWLINE_SEPARATORS = [NEWLINE_BUFFER];

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
