import { IncompleteReadError, InvalidStateError, LimitOverrunError } from "../errors.js";
import { ChunkQueue, type LineVisitor } from "./chunk-queue.js";
import { lineIterator, type LinesOptions, readLines } from "./read-lines.js";
import { CHUNK, CHUNKS, LINE, LINES, type ReadOptions, ReadWaiter } from "./read-waiter.js";
import { isOneLine, type Separator, toSeparators } from "./separators.js";
import {
  checkReadSize,
  resolveReaderOptions,
  type StreamReaderOptions,
} from "./stream-reader-options.js";
import { type TokenVisitor, takeTokens } from "./take-tokens.js";
import { takeUntil } from "./take-until.js";

export type { LineVisitor } from "./chunk-queue.js";
export type { LinesOptions } from "./read-lines.js";
export type { ReadOptions } from "./read-waiter.js";
export { DEFAULT_LIMIT, resolveLimit } from "./resolve-limit.js";
export type { Separator } from "./separators.js";
export type { StreamReaderOptions } from "./stream-reader-options.js";
export type { TokenVisitor } from "./take-tokens.js";

const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;
const NEWLINE_BUFFER = Buffer.of(NEWLINE);
const NEWLINE_SEPARATORS = [NEWLINE_BUFFER];

/** @internal What waits in {@link StreamReader.waitLines}: a line server's loop. */
export interface LineBurstVisitor extends LineVisitor {
  /** The whole lines of an arrival were handed over; false ends the wait. */
  linesTaken(): boolean;
}

/** @internal What waits in {@link StreamReader.waitChunks}: a chunk loop (the echo server's). */
export interface ChunkVisitor {
  /** One read's worth of an arrival, valid only during the call; false ends the wait. */
  onChunk(data: Buffer): boolean;
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
 * where it stopped.
 */
export class StreamReader extends ReadWaiter implements AsyncIterable<Buffer> {
  readonly #limit: number;
  readonly #queue = new ChunkQueue();
  #eof = false;
  // Who waits in waitLines or waitChunks; kept after the wait (it is the loop that owns this reader).
  #visitor: LineBurstVisitor | ChunkVisitor | undefined;

  constructor(options: StreamReaderOptions = {}) {
    const { limit, highWaterMark } = resolveReaderOptions(options);
    super(highWaterMark);
    this.#limit = limit;
  }

  /** The reader's limit in bytes. */
  get limit(): number {
    return this.#limit;
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
   * Adds bytes at the end of the buffer. Empty chunks are ignored. The reader
   * may keep `data` by reference: do not change it afterwards.
   * @throws {InvalidStateError} after `feedEof`.
   */
  feedData(data: Buffer): void {
    if (this.#eof) throw new InvalidStateError("Cannot feed data: EOF was already fed");
    const queue = this.#queue;
    const kind = this.waitingKind_;
    if (kind === LINES) {
      this.#visit(data);
      return;
    }
    if (kind === CHUNKS) {
      this.#visitChunks(data);
      return;
    }
    // The common cases, a read(n) or readLine waiting on an empty buffer for a
    // chunk that is exactly what it needs: hand the chunk over without queueing it.
    if (kind !== undefined && queue.size === 0 && !queue.discarding && data.length > 0) {
      if (
        (kind === CHUNK && data.length <= this.waitingSize_) ||
        (kind === LINE && data.length <= this.#limit + 1 && isOneLine(data))
      ) {
        this.settle_(undefined, data);
        return;
      }
    }
    const before = queue.size;
    queue.append(data);
    if (queue.size === before) return;
    if (kind !== undefined) this.#deliver();
    this.grew_(queue.size);
  }

  /**
   * @internal Removes and returns every buffered byte, for STARTTLS: bytes
   * that arrived after the command belong to the handshake, never to a read.
   * A waiting read keeps waiting; a reader paused by flow control resumes.
   */
  takeBuffered(): Buffer {
    const queue = this.#queue;
    const all = queue.size === 0 ? EMPTY : queue.take(queue.size);
    // A line being discarded ends with the plaintext: what follows is TLS's.
    queue.stopDiscarding();
    this.shrank_(0);
    return all;
  }

  /** Marks the end of the stream: reads return what is buffered, then empty. Idempotent. */
  feedEof(): void {
    this.#eof = true;
    this.#queue.stopDiscarding();
    this.unwatch_();
    if (this.waitingKind_ !== undefined) this.#deliver();
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
    if (n > 0 && Number.isSafeInteger(n) && !this.busy_) {
      const size = this.#queue.size;
      if (size > 0) return Promise.resolve(this.#take(Math.min(n, size)));
      if (this.#eof) return Promise.resolve(EMPTY);
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
        while (!this.#eof) await this.wait_();
        return this.#take(this.#queue.size);
      }
      while (this.#queue.size === 0 && !this.#eof) await this.wait_();
      return this.#take(Math.min(n, this.#queue.size));
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
    if (!this.busy_ && n >= 0 && n <= this.#queue.size) {
      if (Number.isSafeInteger(n)) return Promise.resolve(this.#take(n));
    }
    return this.#readExactlyLoop(n, options);
  }

  async #readExactlyLoop(n: number, options?: ReadOptions): Promise<Buffer> {
    checkReadSize(n);
    this.beginLoop_("readExactly", options);
    try {
      for (;;) {
        const bytes = this.#exactlyNow(n);
        if (bytes !== null) return bytes;
        await this.wait_();
      }
    } finally {
      this.endLoop_();
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
    checkReadSize(n);
    this.check_("readExactlyNow");
    return this.#exactlyNow(n);
  }

  #exactlyNow(n: number): Buffer | null {
    const size = this.#queue.size;
    if (size >= n) return this.#take(n);
    if (this.#eof) throw new IncompleteReadError(this.#take(size), n, { peer: this.peer_() });
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
    if (!this.busy_ && !this.#eof) {
      if (this.#queue.size <= this.#limit) return this.request_(LINE, 0, options);
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
    if (this.busy_) return null;
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
    if (this.busy_) return 0;
    const count = this.#queue.takeLines(this.#limit, visitor);
    this.#resumeIfDrained();
    return count;
  }

  /**
   * @internal A line server's wait for its next lines, without a promise per
   * line (`serveLines`'s loop): while it waits, the whole lines of each chunk
   * that arrives go to `visitor.onLine` at once, inside `feedData`, and then
   * `visitor.linesTaken()` is called. The wait resolves `undefined` when that
   * returns false or after {@link wakeLines}, and rejects with what `onLine` or
   * `linesTaken` throws. Otherwise it ends as `readLine` does: with the partial
   * last line or an empty buffer at EOF, with LimitOverrunError for a line over
   * the limit, with the `setException` error or the signal's reason. With a
   * whole line buffered, at EOF or while another read is in progress it is
   * `readLine`.
   */
  waitLines(visitor: LineBurstVisitor, options?: ReadOptions): Promise<Buffer | undefined> {
    const queue = this.#queue;
    if (this.busy_ || this.#eof || queue.size > this.#limit) return this.readLine(options);
    if (queue.size > 0 && queue.find(NEWLINE_BUFFER) !== -1) return this.readLine(options);
    this.#visitor = visitor;
    return this.request_(LINES, 0, options);
  }

  /**
   * @internal A chunk loop's wait, `read(size)` without a promise per chunk:
   * while it waits, each chunk that arrives goes to `visitor.onChunk` at once,
   * inside `feedData`, in pieces of at most `size` bytes as successive reads
   * would return them. The wait resolves `undefined` once `onChunk` returns
   * false (what is left of that chunk stays buffered) and rejects with what it
   * throws. Otherwise it ends as `read(size)` does: with an empty buffer at
   * EOF, with the `setException` error or the signal's reason. With data
   * buffered, at EOF or while another read is in progress it is `read(size)`.
   */
  waitChunks(
    visitor: ChunkVisitor,
    size: number,
    options?: ReadOptions,
  ): Promise<Buffer | undefined> {
    if (this.busy_ || this.#eof || this.#queue.size > 0 || !(size > 0)) {
      return this.read(size, options);
    }
    this.#visitor = visitor;
    return this.request_(CHUNKS, size, options);
  }

  /** @internal Ends a {@link waitLines} wait at once, resolving it `undefined`; false when none waits. */
  wakeLines(): boolean {
    if (this.waitingKind_ !== LINES) return false;
    this.settle_();
    return true;
  }

  /** A chunk arrived during a waitChunks wait: it goes to the visitor now, `size` bytes at a time. */
  #visitChunks(data: Buffer): void {
    const visitor = this.#visitor as ChunkVisitor;
    const size = this.waitingSize_;
    const length = data.length;
    let at = 0;
    let goOn = true;
    try {
      while (goOn && at < length) {
        const piece = at === 0 && length <= size ? data : data.subarray(at, at + size);
        at += piece.length;
        goOn = visitor.onChunk(piece);
      }
    } catch (error) {
      this.settle_(error as Error);
      return;
    }
    if (goOn) return;
    this.settle_();
    if (at < length) {
      this.#queue.append(data.subarray(at));
      this.grew_(this.#queue.size);
    }
  }

  /** A chunk arrived during a waitLines wait: its whole lines go to the visitor now. */
  #visit(data: Buffer): void {
    const queue = this.#queue;
    const before = queue.size;
    queue.append(data);
    if (queue.size === before) return;
    const visitor = this.#visitor as LineBurstVisitor;
    let goOn: boolean;
    try {
      goOn = queue.takeLines(this.#limit, visitor) === 0 || visitor.linesTaken();
    } catch (error) {
      this.settle_(error as Error);
      return;
    }
    if (!goOn) this.settle_();
    else if (queue.size > this.#limit) this.#deliver();
    this.grew_(queue.size);
  }

  /**
   * Hands every token already buffered to `visitor.onToken(bytes, start, end)`
   * in place, without a Buffer per token: exactly `visitor.want` bytes, or,
   * when `want` is -1, the bytes through `separator` (included), which must
   * start within `limit`; `onToken` sets `want` for the next token. Stops,
   * returning how many it handed over, when the wanted token is not buffered
   * or after `onToken` returns false (that token is consumed). Never waits or
   * throws for the reader's sake: EOF, a separator past the limit and errors
   * are left for `readUntilNow` / `readExactlyNow` (or their async forms),
   * which the caller calls next for the same token; 0 while another read waits.
   *
   * This is `readUntilNow` and `readExactlyNow` for length-prefixed framings
   * parsed in one burst (RESP: a line `$3\r\n` asks for 5 bytes next): it
   * saves a Buffer per token. The bytes are never overwritten, so a view of
   * them (`bytes.subarray(start, end)`) may be kept, as a `readExactly`
   * result is. `onToken` must not read from this reader.
   * @throws {TypeError} / {RangeError} for an invalid separator, as `readUntil`
   *   (one separator only); whatever `onToken` throws, its token consumed.
   */
  readTokensNow(separator: Separator, visitor: TokenVisitor): number {
    const separators = toSeparators(separator);
    if (separators.length !== 1) {
      throw new RangeError("Invalid separator: readTokensNow takes exactly one");
    }
    if (this.busy_) return 0;
    const count = takeTokens(this.#queue, separators[0] as Buffer, this.#limit, visitor);
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
    if (!this.busy_) {
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
    this.check_("readUntilNow");
    return this.#untilNow(separators, 0);
  }

  async #readUntil(separators: Buffer[], options: ReadOptions | undefined, method: string) {
    this.beginLoop_(method, options);
    try {
      const longest = Math.max(...separators.map((s) => s.length));
      let from = 0;
      for (;;) {
        const bytes = this.#untilNow(separators, from);
        if (bytes !== null) return bytes;
        // No match starts before this; one may straddle it and the next chunk.
        from = Math.max(0, this.#queue.size + 1 - longest);
        await this.wait_();
      }
    } finally {
      this.endLoop_();
    }
  }

  #untilNow(separators: Buffer[], from: number): Buffer | null {
    const eof = this.#eof;
    const bytes = takeUntil(
      this.#queue,
      separators,
      from,
      this.#limit,
      eof,
      eof ? this.peer_() : undefined,
    );
    if (bytes !== null) this.#resumeIfDrained();
    return bytes;
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

  /** New data or EOF arrived while a read waits: completes it if it can. */
  #deliver(): void {
    const size = this.#queue.size;
    const kind = this.waitingKind_;
    if (kind === CHUNK || kind === CHUNKS) {
      if (size > 0) this.settle_(undefined, this.#take(Math.min(this.waitingSize_, size)));
      else if (this.#eof) this.settle_(undefined, EMPTY);
    } else if (kind === LINE || kind === LINES) {
      // LINES: only a partial line is buffered (whole ones went to the visitor).
      const line = kind === LINE ? this.#lineNow() : null;
      if (line !== null) this.settle_(undefined, line);
      else if (this.#eof || size > this.#limit) {
        const options = this.readOptions_;
        this.settle_(undefined, undefined, () => this.#readLineLoop(options));
      }
    } else {
      this.settle_();
    }
  }

  #take(n: number): Buffer {
    const bytes = this.#queue.take(n);
    this.#resumeIfDrained();
    return bytes;
  }

  /** Lets data in again once a paused reader is down to half the high-water mark. */
  #resumeIfDrained(): void {
    this.shrank_(this.#queue.size);
  }
}
