/**
 * The loop behind `serveLines`: one connection's lines read, answered in
 * order and written in batches, until the session closes, EOF or shutdown.
 *
 * @module
 */

import {
  ConnectionClosedError,
  isConnectionLost,
  LimitOverrunError,
  TimeoutError,
} from "../errors.js";
import { systemClock } from "../protocols/clock.js";
import {
  kExpire,
  kProgress,
  kSeen,
  kSeenAt,
  NOT_TIMED,
  type Sweeper,
  SweeperPool,
  type Watched,
} from "../protocols/sweeper.js";
import type { SocketAddress } from "../protocols/connection-info.js";
import { type ConnectionLogger, silentLogger } from "./connection-logger.js";
import type {
  LineConnection,
  LineConnectionInfo,
  LineReply,
  LineSession,
  LinesEnd,
} from "./line-session.js";
import type { ServeLinesOptions } from "./serve-lines.js";
import type { LineBurstVisitor, StreamReader } from "./stream-reader.js";
import type { StreamWriter } from "./stream-writer.js";
import { LineBatch, type LineWriter } from "./line-batch.js";
import type { HandlerEnds } from "./handler-ends.js";

export type { LineWriter } from "./line-batch.js";

const NEWLINE = 0x0a;

/** Seconds as the messages write them: `30`, `0.5`. */
export function seconds(ms: number): string {
  return String(ms / 1000);
}

/** The slowloris guard's timers: one per `lineTimeout`, for every loop. */
const lineSweepers = new SweeperPool<LineLoop>();

/** What `#burst` tells the loop (bits). */
const AGAIN = 1;
const DRAIN = 2;
const CLOSED = 4;

/** What a failed wait gives the loop when the `signal` option aborted it: the loop ends. */
const SHUTDOWN = Buffer.alloc(0);

/** Thrown into the reader to wake a loop waiting for a line when its session closes. */
class CloseRequested extends Error {}

/**
 * One connection's line loop: the state of `serveLines` in one object,
 * which is also the session's {@link LineConnection}, so that an idle
 * connection keeps one async frame and no closures.
 *
 * Replies of one burst (every line already buffered, answered synchronously
 * through `reader.readLinesNow`) are queued and written together when the
 * burst ends, or every 64 KiB; then the loop awaits `drain()` if the writer
 * needs it. A reply that is a promise ends the burst: what was queued before
 * it is written, the loop awaits it, queues its result and goes on, so order
 * holds and no line is handed over before the reply to the one before it.
 * While the loop waits, the reader hands it each arrival's lines inside the
 * data event (`reader.waitLines`) and their replies are written there
 * (`linesTaken`): a ping-pong line costs no promise. Anything else (a promise,
 * a close, a full batch, a drain, EOF, an error) wakes the loop to do as above.
 *
 * The slowloris guard is a {@link Sweeper} shared by every loop with the same
 * `lineTimeout` and clock: the loop's progress marker is the number of its
 * wait while a partial line is buffered in it, and NOT_TIMED otherwise,
 * so a wait that holds a partial line for `lineTimeout` times out. Only the
 * waits pay for it (two field writes each); bursts answered from the buffer
 * do not. The rest of an over-long line still being dropped counts as a line
 * begun: the reader says so (`discardingLine`).
 */
export class LineLoop extends LineBatch implements LineBurstVisitor, LineConnection, Watched {
  readonly #reader: StreamReader;
  #session: LineSession = {};
  // Shared by every connection of a server, and passed as is to readLine (for its signal).
  readonly #options: ServeLinesOptions;
  readonly #limit: number;
  #zeroCopy = false;
  #closing = false;
  #reading = false;
  // True while the session answers a line: what it appends joins that line's reply.
  #answering = false;
  // The slowloris guard's view of the current wait.
  #sweeper: Sweeper<LineLoop> | undefined;
  #wait = 0;
  #waiting = false;
  #timedOut = false;
  /** @internal The sweeper's bookkeeping. */
  [kSeen] = 0;
  /** @internal The sweeper's bookkeeping. */
  [kSeenAt] = 0;

  /** `options` are already checked by serveLines. */
  constructor(reader: StreamReader, writer: LineWriter, options: ServeLinesOptions) {
    super(writer);
    this.#reader = reader;
    this.#options = options;
    this.#limit = Math.min(options.maxLine ?? reader.limit, reader.limit);
  }

  /** Sets the session the factory made for this connection. */
  attach(session: LineSession): void {
    if (typeof session !== "object" || session === null) {
      throw new TypeError("Invalid line session: expected an object");
    }
    const bytes = typeof session.onLineBytes === "function";
    if (bytes === (typeof session.onLine === "function")) {
      throw new TypeError("Invalid line session: expected one of onLine and onLineBytes");
    }
    this.#session = session;
    this.#zeroCopy = bytes;
  }

  get peer(): SocketAddress | string | undefined {
    return this.writer_.getExtraInfo("peername") as SocketAddress | string | undefined;
  }

  get info(): LineConnectionInfo {
    return {
      peer: this.peer,
      local: this.writer_.getExtraInfo("sockname") as SocketAddress | string | undefined,
    };
  }

  get logger(): ConnectionLogger {
    return this.#options.logger ?? silentLogger;
  }

  write(data: string | Uint8Array): void {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      throw new TypeError("Invalid data: expected a string or a Uint8Array");
    }
    // What this burst queued so far goes first: the order of calls.
    this.flush_();
    this.writer_.write(data);
  }

  append(bytes: Uint8Array, start = 0, end: number = bytes?.length): void {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError("Invalid data: expected a Uint8Array");
    }
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(end) ||
      start < 0 ||
      start > end ||
      end > bytes.length
    ) {
      throw new RangeError(
        `Invalid range: expected 0 <= start <= end <= ${bytes.length}, got ${start} and ${end}`,
      );
    }
    if (!this.#answering) {
      this.write(Buffer.from(bytes.subarray(start, end)));
      return;
    }
    this.addPiece_(bytes, start, end);
  }

  get needsDrain(): boolean {
    return this.writer_.needsDrain;
  }

  drain(): Promise<void> {
    return this.writer_.drain();
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#reading && !this.#reader.wakeLines()) {
      this.#reader.setException(new CloseRequested("Session closed"));
    }
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** The loop; resolves with how it ended (see {@link LinesEnd}). */
  run(): Promise<LinesEnd> {
    return this.#serve(undefined) as Promise<LinesEnd>;
  }

  /**
   * @internal The loop for `startServer`: its end goes to `ends` (which close
   * the connection), not to a promise that startServer follows with a reaction
   * and two bound functions per connection (192 bytes of an idle one).
   */
  serveDirect(ends: HandlerEnds): void {
    void this.#serve(ends);
  }

  // Resolves with how the loop ended; given `ends`, tells them instead and never rejects.
  async #serve(ends: HandlerEnds | undefined): Promise<LinesEnd | undefined> {
    // One async frame per connection (no helper awaited from here, and what needs
    // no await done in plain methods): an idle connection's suspended frame, its
    // registers included, is a large part of its heap.
    let end: LinesEnd | "error" = "error";
    let failure: Error | undefined;
    try {
      try {
        if (this.#sendWelcome()) await this.writer_.drain();
        for (;;) {
          if (this.pending_ !== undefined) await this.settle_();
          const step = this.#burst();
          if (step === CLOSED) {
            end = "close";
            break;
          }
          if ((step & DRAIN) !== 0) await this.writer_.drain();
          if ((step & AGAIN) !== 0 || this.#closing) continue;
          this.#beginWait();
          let line: Buffer | undefined;
          try {
            line = await this.#reader.waitLines(this, this.#options);
          } catch (error) {
            line = this.#waitFailed(error);
          }
          const ended = this.#waited(line);
          if (ended !== undefined) {
            end = ended;
            break;
          }
        }
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
        if (!isConnectionLoss(error)) throw error;
        end = "lost";
      } finally {
        this.#sweeper?.delete(this);
        this.flush_();
        this.#session.onEnd?.(end, failure);
      }
    } catch (error) {
      if (ends === undefined) throw error;
      ends.failed.call(this.writer_ as StreamWriter, error);
      return undefined;
    }
    if (ends === undefined) return end;
    ends.done.call(this.writer_ as StreamWriter);
    return undefined;
  }

  /** Writes the session's welcome, if any; true when the writer then needs a drain. */
  #sendWelcome(): boolean {
    const { welcome } = this.#session;
    if (welcome === undefined || welcome === null) return false;
    this.writer_.write(welcome);
    return this.writer_.needsDrain;
  }

  /**
   * What the loop does before it waits: nothing left to do but wait (0), or
   * the bits of what to do instead: DRAIN the writer, go round
   * AGAIN (a pending reply, a full batch), or the session CLOSED.
   */
  #burst(): number {
    if (this.#closing) return CLOSED;
    // Ping-pong's common case, nothing left after the awaited line: no burst to run.
    if (this.#reader.bufferedSize > 0) {
      this.#reader.readLinesNow(this);
      if (this.pending_ !== undefined || this.#closing) return AGAIN;
    }
    // A burst that stopped with a full batch has lines still buffered: drain, then go on.
    const full = this.full_;
    const drain = this.flush_() && this.writer_.needsDrain;
    return (full ? AGAIN : 0) | (drain ? DRAIN : 0);
  }

  /**
   * A wait ended with `line` (see `#waitFailed` for a failed
   * one): answers it, or says how the loop ends, or `undefined` to go on.
   */
  #waited(line: Buffer | undefined): LinesEnd | undefined {
    this.#reading = false;
    this.#waiting = false;
    // A reply still pending (the too-long hook's promise) is settled first, at the loop's top.
    if (this.#closing) return this.pending_ === undefined ? "close" : undefined;
    if (line === SHUTDOWN) return "shutdown";
    // The reader answered lines through linesTaken and woke the loop to go on.
    if (line === undefined) return undefined;
    if (line.length === 0) return "eof";
    this.onLine(line, 0, line.length);
    return undefined;
  }

  /**
   * A wait for lines failed: `undefined` to go on (a close, whose flag the loop
   * reads next, or a line over the limit, answered), {@link SHUTDOWN} to end, or
   * it throws the error (after the line timeout's reply).
   */
  #waitFailed(error: unknown): Buffer | undefined {
    this.#reading = false;
    this.#waiting = false;
    if (this.#closing) return undefined;
    if (error instanceof LimitOverrunError) {
      this.addReply_(this.#tooLong());
      return undefined;
    }
    if (isShutdown(error, this.#options.signal)) return SHUTDOWN;
    if (this.#timedOut) this.#queueTimeoutReply();
    throw error;
  }

  /** Answers one line, `\n` included unless it ended at EOF; false to stop a burst. */
  onLine(bytes: Buffer, start: number, end: number): boolean {
    if (end > start && bytes[end - 1] === NEWLINE) end--;
    let reply: LineReply;
    if (end - start > this.#limit) {
      reply = this.#tooLong();
    } else {
      this.#answering = true;
      try {
        if (this.#zeroCopy) {
          reply = (this.#session as Required<LineSession>).onLineBytes(bytes, start, end);
        } else {
          const line = Buffer.allocUnsafe(end - start);
          bytes.copy(line, 0, start, end);
          reply = (this.#session as Required<LineSession>).onLine(line);
        }
      } finally {
        this.#answering = false;
      }
    }
    if (reply !== undefined) this.addReply_(reply);
    return this.open_ && !this.#closing;
  }

  /**
   * @internal The reader handed over the lines of an arrival while the loop
   * waits (see `StreamReader.waitLines`): writes their replies, in the data
   * event, with no promise. False wakes the loop: a reply is a promise, the
   * session closes, the batch is full or the writer needs a drain.
   */
  linesTaken(): boolean {
    if (this.pending_ !== undefined || this.#closing) return false;
    const full = this.full_;
    this.flush_();
    if (full || this.writer_.needsDrain) return false;
    // A line after these is a new wait for the slowloris guard.
    this.#wait++;
    return true;
  }

  /** @internal The slowloris guard's progress marker; see the class comment. */
  [kProgress](): number {
    return this.#waiting && (this.#reader.discardingLine || this.#reader.bufferedSize > 0)
      ? this.#wait
      : NOT_TIMED;
  }

  /** @internal The slowloris guard: a line outlived lineTimeout. */
  [kExpire](): void {
    this.#sweeper = undefined;
    const timeout = seconds(this.#options.lineTimeout ?? 0);
    const message = `Connection closed: line not completed within ${timeout} s`;
    this.#timedOut = true;
    this.#reader.setException(new TimeoutError(message));
  }

  #beginWait(): void {
    this.#reading = true;
    const lineTimeout = this.#options.lineTimeout ?? 0;
    if (lineTimeout === 0) return;
    if (this.#sweeper === undefined) {
      this.#sweeper = lineSweepers.get(lineTimeout, this.#options.clock ?? systemClock);
      this.#sweeper.add(this);
    }
    this.#wait++;
    this.#waiting = true;
  }

  #tooLong(): LineReply {
    const hook = this.#session.onLineTooLong;
    return hook === undefined
      ? `ERR line too long (more than ${this.#limit} bytes)\r\n`
      : hook.call(this.#session, this.#limit);
  }

  #queueTimeoutReply(): void {
    const lineTimeout = this.#options.lineTimeout ?? 0;
    const hook = this.#session.onLineTimeout;
    const reply =
      hook === undefined
        ? `ERR line not completed within ${seconds(lineTimeout)} s\r\n`
        : hook.call(this.#session, lineTimeout);
    // Synchronous only: the connection is going, nothing waits for a promise.
    if (typeof reply === "string" || reply instanceof Uint8Array) this.addReply_(reply);
  }
}

/** A peer gone ({@link isConnectionLost}), unless a timeout closed it, which is reported. */
function isConnectionLoss(error: unknown): boolean {
  if (!isConnectionLost(error) || error instanceof TimeoutError) return false;
  return !(error instanceof ConnectionClosedError && error.cause instanceof TimeoutError);
}

/** Whether `error` is `signal`'s abort (a shutdown), not a failure. */
function isShutdown(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted !== true) return false;
  if (error === signal.reason) return true;
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}
