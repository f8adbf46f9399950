/**
 * The buffer of a `StreamReader` and its synchronous side.
 *
 * @module
 */

import { IncompleteReadError, InvalidStateError } from "../errors.js";
import { ChunkQueue, type LineVisitor } from "./chunk-queue.js";
import { CHUNK, CHUNKS, LINE, LINES, type ReadOptions, ReadWaiter } from "./read-waiter.js";
import { isOneLine, type Separator, toSeparators } from "./separators.js";
import {
  checkReadSize,
  resolveReaderOptions,
  type StreamReaderOptions,
} from "./stream-reader-options.js";
import { type TokenVisitor, takeTokens } from "./take-tokens.js";
import { takeUntil } from "./take-until.js";

const EMPTY = Buffer.alloc(0);
const NEWLINE_BUFFER = Buffer.of(0x0a);

/** @internal What waits in {@link BufferedReader.waitLines}: a line server's loop. */
export interface LineBurstVisitor extends LineVisitor {
  /** The whole lines of an arrival were handed over; false ends the wait. */
  linesTaken(): boolean;
}

/** @internal What waits in {@link BufferedReader.waitChunks}: a chunk loop (the echo server's). */
export interface ChunkVisitor {
  /** One read's worth of an arrival, valid only during the call; false ends the wait. */
  onChunk(data: Buffer): boolean;
}

/**
 * @internal The buffer under a `StreamReader`, as its base, and everything
 * done without waiting: feeding it (`feedData`, `feedEof`), the synchronous
 * reads (`readLineNow`, `readLinesNow`, `readExactlyNow`, `readUntilNow`,
 * `readTokensNow`), completing a waiting read from `feedData`, and the waits of
 * the library's own loops, answered inside `feedData` (`waitLines`,
 * `waitChunks`). `StreamReader` adds asyncio's coroutine API on top.
 */
export abstract class BufferedReader extends ReadWaiter {
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

  /** Reads up to `n` bytes (see `StreamReader.read`). */
  abstract read(n?: number, options?: ReadOptions): Promise<Buffer>;

  /** Reads one line (see `StreamReader.readLine`). */
  abstract readLine(options?: ReadOptions): Promise<Buffer>;

  /** @internal readLine's slow path: EOF, more than `limit` bytes, another read or an error. */
  protected abstract readLineLoop_(options?: ReadOptions): Promise<Buffer>;

  /** @internal The buffer itself, for the async reads. */
  protected get queue_(): ChunkQueue {
    return this.#queue;
  }

  /** @internal Whether EOF was fed. */
  protected get eof_(): boolean {
    return this.#eof;
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
    return this.exactlyNow_(n);
  }

  /** @internal The next `n` bytes if buffered, else null; throws at EOF before them. */
  protected exactlyNow_(n: number): Buffer | null {
    const size = this.#queue.size;
    if (size >= n) return this.take_(n);
    if (this.#eof) throw new IncompleteReadError(this.take_(size), n, { peer: this.peer_() });
    return null;
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
    this.resumeIfDrained_();
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
   * inside `feedData`, in pieces of at most `size` bytes. The bytes and their
   * order are those of successive reads, not the pieces: each arrival is handed
   * over on its own, where reads would join arrivals queued before they resume. The wait resolves `undefined` once `onChunk` returns
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
    this.resumeIfDrained_();
    return count;
  }

  /** Takes a whole line within the limit, or returns null. */
  #lineNow(): Buffer | null {
    const end = this.#queue.find(NEWLINE_BUFFER);
    if (end === -1 || end > this.#limit) return null;
    return this.take_(end + 1);
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
    return this.untilNow_(separators, 0);
  }

  /** @internal The bytes through the first separator if buffered, else null (searching from `from`). */
  protected untilNow_(separators: Buffer[], from: number): Buffer | null {
    const eof = this.#eof;
    const bytes = takeUntil(
      this.#queue,
      separators,
      from,
      this.#limit,
      eof,
      eof ? this.peer_() : undefined,
    );
    if (bytes !== null) this.resumeIfDrained_();
    return bytes;
  }

  /** New data or EOF arrived while a read waits: completes it if it can. */
  #deliver(): void {
    const size = this.#queue.size;
    const kind = this.waitingKind_;
    if (kind === CHUNK || kind === CHUNKS) {
      if (size > 0) this.settle_(undefined, this.take_(Math.min(this.waitingSize_, size)));
      else if (this.#eof) this.settle_(undefined, EMPTY);
    } else if (kind === LINE || kind === LINES) {
      // LINES: only a partial line is buffered (whole ones went to the visitor).
      const line = kind === LINE ? this.#lineNow() : null;
      if (line !== null) this.settle_(undefined, line);
      else if (this.#eof || size > this.#limit) {
        const options = this.readOptions_;
        this.settle_(undefined, undefined, () => this.readLineLoop_(options));
      }
    } else {
      this.settle_();
    }
  }

  /** @internal Takes `n` buffered bytes, letting data in again if that drained the buffer. */
  protected take_(n: number): Buffer {
    const bytes = this.#queue.take(n);
    this.resumeIfDrained_();
    return bytes;
  }

  /** @internal Lets data in again once a paused reader is down to half the high-water mark. */
  protected resumeIfDrained_(): void {
    this.shrank_(this.#queue.size);
  }
}
