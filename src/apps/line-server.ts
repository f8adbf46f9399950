/**
 * The line loop shared by the line echo and the calculator (seed 002): read a
 * line, answer it, until `quit`, EOF or shutdown.
 *
 * @module
 */

import { LimitOverrunError, TimeoutError } from "../errors.js";
import { type Clock, systemClock } from "../protocols/clock.js";
import {
  kExpire,
  kProgress,
  kSeen,
  kSeenAt,
  MAX_TIMEOUT_MS,
  type Sweeper,
  SweeperPool,
  type Watched,
} from "../protocols/sweeper.js";
import type { LineVisitor, StreamReader } from "../streams/stream-reader.js";
import { type AppOptions, type AppWriter, isConnectionLoss, isShutdown } from "./app-options.js";
import type { Logger } from "./logger.js";
import { peerOf, pythonAddress } from "./peer.js";

/** What a line server does with each line: one per connection, it may keep state. */
export interface LineHandler {
  /**
   * The reply to one line, `bytes[start, end)` without its `\n` (a `\r` before
   * it is kept; the line apps strip it as Python's `rstrip()` does). The bytes
   * are the reader's own and valid only during the call.
   */
  answer(bytes: Buffer, start: number, end: number): Uint8Array | string;
  /** True once an answer was the connection's last (`quit`): it is sent, then the loop ends. */
  readonly closed: boolean;
  /**
   * What the seed logs for the line just answered, as `(HOST, PORT) --> LINE`;
   * undefined for none. Read only when debug logging is on.
   */
  readonly logged?: string | undefined;
}

/** Options of {@link serveLines}. */
export interface ServeLinesOptions {
  /** The longest line answered, in bytes without its `\n`. Default: the reader's `limit`. */
  limit?: number;
  /** Once aborted, lines already buffered are answered, then the loop ends instead of waiting. */
  signal?: AbortSignal;
  /**
   * Slowloris guard, in ms: once a line has begun (bytes buffered without
   * their `\n`, or the rest of an over-long line being discarded), it must
   * end within this time, or the loop sends {@link lineTimedOut}'s error
   * line and rejects with a `TimeoutError` (`Connection closed: line not
   * completed within N s`), and the caller closes the connection: no earlier
   * than `lineTimeout` and no later than `lineTimeout + max(lineTimeout / 10, 50 ms)`
   * after the line's first byte (or, for a line begun before the loop waited
   * for it, after the wait began). Silence between lines is not measured
   * (that is the server's `idleTimeout`). Default 0: no limit.
   */
  lineTimeout?: number;
  /** The clock of `lineTimeout`. For tests: a virtual clock drives every timeout. Default {@link systemClock}. */
  clock?: Clock;
}

/** Options of the line apps (line echo, calculator). */
export interface LineAppOptions extends AppOptions {
  /** As {@link ServeLinesOptions.lineTimeout}, in ms. Default 0: no limit. */
  lineTimeout?: number;
  /** As {@link ServeLinesOptions.clock}. */
  clock?: Clock;
}

/**
 * Why {@link serveLines} returned; `"lost"` (the peer went away) only from
 * {@link serveSeedLines}, where serveLines rejects.
 */
export type LineLoopEnd = "quit" | "eof" | "shutdown" | "lost";

const NEWLINE = 0x0a;

/**
 * The reply to a line longer than the limit: `ERROR. Line too long (more than
 * N bytes)\r\n`. The rest of that line is discarded and the connection stays open.
 */
export function lineTooLong(limit: number): Buffer {
  return Buffer.from(`ERROR. Line too long (more than ${limit} bytes)\r\n`, "latin1");
}

/**
 * The line sent before closing a connection whose line outlived `lineTimeout`
 * (in ms): `ERROR. Line not completed within N s\r\n`.
 */
export function lineTimedOut(lineTimeout: number): string {
  return `ERROR. Line not completed within ${seconds(lineTimeout)} s\r\n`;
}

/** Replies batched from one burst of buffered lines are written, and drained, past this many bytes. */
const BATCH_BYTES = 64 * 1024;

/**
 * Reads lines from `reader` and writes `handler.answer()`'s reply to each.
 *
 * A last line that ends at EOF without `\n` is answered too, as Python's
 * `readline()` returns it.
 *
 * Replies are batched: every line already buffered (a client that pipelines)
 * is answered synchronously through `reader.readLinesNow()`, and the replies
 * go out in one write when the buffer holds no whole line any more, or every
 * 64 KiB. An interactive client still gets each reply at once. After each
 * write the loop awaits `drain()` when the writer needs it, so a client that
 * does not read cannot make the server buffer without bound.
 *
 * - A line longer than the limit gets {@link lineTooLong}'s error line and is
 *   discarded whole (the reader drops the rest of it as it arrives); the loop
 *   goes on with the next line.
 * - Returns `"quit"` after an answer that set `handler.closed`, `"eof"` when
 *   the peer half-closed and every line was answered, `"shutdown"` when
 *   `signal` aborted while the loop waited for data. Every reply is written
 *   before it returns.
 * - Rejects with a `TimeoutError` when a line outlives `lineTimeout`, after
 *   writing the replies to the lines before it and {@link lineTimedOut}'s
 *   error line.
 * - Other read errors (a reset connection) and a rejected `drain()` reject.
 *
 * Rejects with a `RangeError` for a `lineTimeout` that is not an integer from 0
 * to 2³¹ − 1 (the longest a Node timer waits).
 */
export function serveLines(
  reader: StreamReader,
  writer: AppWriter,
  handler: LineHandler,
  options: ServeLinesOptions = {},
): Promise<LineLoopEnd> {
  let loop: LineLoop;
  try {
    loop = new LineLoop(reader, writer, handler, options, undefined, false);
  } catch (error) {
    return Promise.reject(error);
  }
  return loop.run();
}

/**
 * Serves one connection of a seed-002 line app: sends `welcome` (if any), runs
 * {@link serveLines} with `handler`, and ends quietly when the peer goes away:
 * it resolves with how the loop ended, `"lost"` for a peer gone.
 *
 * Logs at debug level, as the seed prints: `Received connection from (...)`,
 * `(HOST, PORT) --> LINE` for each line whose answer left `handler.logged`
 * set, and `(HOST, PORT) quit` at the end, whatever ended it. Nothing is
 * formatted when debug is off.
 */
export function serveSeedLines(
  reader: StreamReader,
  writer: AppWriter,
  options: LineAppOptions,
  handler: LineHandler,
  welcome?: Uint8Array,
): Promise<LineLoopEnd> {
  const { logger } = options;
  let loop: LineLoop;
  try {
    // Made before anything is sent, so that bad options send nothing.
    const log = logger.enabled("debug")
      ? { logger, address: pythonAddress(peerOf(writer)) }
      : undefined;
    loop = new LineLoop(reader, writer, handler, options, log, true);
    if (log !== undefined) logger.debug(`Received connection from ${log.address}`);
  } catch (error) {
    return Promise.reject(error);
  }
  if (welcome !== undefined) writer.write(welcome);
  return loop.run(welcome !== undefined);
}

/** Seconds as the messages write them: `30`, `0.5`. */
function seconds(ms: number): string {
  return String(ms / 1000);
}

/** The slowloris guard's timers: one per `lineTimeout`, for every loop. */
const lineSweepers = new SweeperPool<LineLoop>();

/**
 * One connection's line loop: the state of {@link serveLines} in one object,
 * so that an idle connection keeps one async frame and no closures.
 *
 * The slowloris guard is a {@link Sweeper} shared by every loop with the same
 * `lineTimeout` and clock: the loop's progress marker is the number of its
 * wait while a partial line is buffered in it, and NaN (not timed) otherwise,
 * so a wait that holds a partial line for `lineTimeout` times out. Only the
 * waits pay for it (two field writes each); bursts answered from the buffer
 * do not.
 *
 * One imprecision: the reader does not say whether it is still discarding an
 * over-long line. The loop assumes so when the error left nothing buffered,
 * which is wrong only when that line's `\n` was the last byte received: then
 * a silence of `lineTimeout` after it closes the connection as a line unfinished.
 */
class LineLoop implements LineVisitor, Watched {
  readonly #reader: StreamReader;
  readonly #writer: AppWriter;
  readonly #handler: LineHandler;
  // Shared by every connection of a server, and passed as is to readLine (for its signal).
  readonly #options: ServeLinesOptions;
  readonly #limit: number;
  readonly #log: { logger: Logger; address: string } | undefined;
  /** serveSeedLines: a lost peer ends the loop quietly, and the end is logged. */
  readonly #seed: boolean;
  // Replies of one burst, written at once: strings are joined as they come (the
  // calculator's replies, measured cheaper than a Buffer each), bytes kept apart.
  #text = "";
  #parts: Uint8Array[] | undefined;
  #batchBytes = 0;
  #tooLong: Buffer | undefined;
  // The slowloris guard's view of the current wait.
  #sweeper: Sweeper<LineLoop> | undefined;
  #wait = 0;
  #waiting = false;
  #discarding = false;
  #timedOut = false;
  /** @internal The sweeper's bookkeeping. */
  [kSeen] = 0;
  /** @internal The sweeper's bookkeeping. */
  [kSeenAt] = 0;

  constructor(
    reader: StreamReader,
    writer: AppWriter,
    handler: LineHandler,
    options: ServeLinesOptions,
    log: { logger: Logger; address: string } | undefined,
    seed: boolean,
  ) {
    const lineTimeout = options.lineTimeout ?? 0;
    if (!Number.isSafeInteger(lineTimeout) || lineTimeout < 0 || lineTimeout > MAX_TIMEOUT_MS) {
      throw new RangeError(
        `Invalid lineTimeout: must be an integer in 0..${MAX_TIMEOUT_MS} ms, got ${lineTimeout}`,
      );
    }
    this.#reader = reader;
    this.#writer = writer;
    this.#handler = handler;
    this.#options = options;
    this.#limit = Math.min(options.limit ?? reader.limit, reader.limit);
    this.#log = log;
    this.#seed = seed;
  }

  /** The loop; `drainFirst`: something was written before it (a welcome line). */
  async run(drainFirst = false): Promise<LineLoopEnd> {
    const reader = this.#reader;
    try {
      if (drainFirst && this.#writer.needsDrain) await this.#writer.drain();
      for (;;) {
        reader.readLinesNow(this);
        if (this.#handler.closed) return "quit";
        // A burst that stopped at BATCH_BYTES has lines still buffered: drain, then go on.
        const full = this.#batchBytes >= BATCH_BYTES;
        if (this.#flush() && this.#writer.needsDrain) await this.#writer.drain();
        if (full) continue;
        let line: Buffer;
        this.#beginWait();
        try {
          line = await reader.readLine(this.#options);
        } catch (error) {
          this.#waiting = false;
          if (error instanceof LimitOverrunError) {
            // Nothing left buffered: the reader is still dropping the rest of that line.
            this.#discarding = reader.bufferedSize === 0;
            this.#queue((this.#tooLong ??= lineTooLong(this.#limit)));
            continue;
          }
          if (isShutdown(error, this.#options.signal)) return "shutdown";
          if (this.#timedOut) this.#queue(lineTimedOut(this.#options.lineTimeout ?? 0));
          throw error;
        }
        this.#waiting = false;
        if (line.length === 0) return "eof";
        this.onLine(line, 0, line.length);
        if (this.#handler.closed) return "quit";
      }
    } catch (error) {
      if (!this.#seed || !isConnectionLoss(error)) throw error;
      this.#debug(`connection lost: ${(error as Error).message}`);
      return "lost";
    } finally {
      this.#sweeper?.delete(this);
      this.#flush();
      if (this.#seed) this.#debug("quit");
    }
  }

  /** Logs `(HOST, PORT) MESSAGE` at debug level, when it is on. */
  #debug(message: string): void {
    if (this.#log !== undefined) this.#log.logger.debug(`${this.#log.address} ${message}`);
  }

  /** Answers one line, `\n` included unless it ended at EOF; false to stop a burst. */
  onLine(bytes: Buffer, start: number, end: number): boolean {
    this.#discarding = false;
    if (end > start && bytes[end - 1] === NEWLINE) end--;
    if (end - start > this.#limit) {
      this.#queue((this.#tooLong ??= lineTooLong(this.#limit)));
    } else {
      const handler = this.#handler;
      this.#queue(handler.answer(bytes, start, end));
      if (this.#log !== undefined) {
        const { logged } = handler;
        if (logged !== undefined) this.#debug(`--> ${logged}`);
      }
      if (handler.closed) return false;
    }
    return this.#batchBytes < BATCH_BYTES;
  }

  /** @internal The slowloris guard's progress marker; see the class comment. */
  [kProgress](): number {
    return this.#waiting && (this.#discarding || this.#reader.bufferedSize > 0)
      ? this.#wait
      : Number.NaN;
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
    const lineTimeout = this.#options.lineTimeout ?? 0;
    if (lineTimeout === 0) return;
    if (this.#sweeper === undefined) {
      this.#sweeper = lineSweepers.get(lineTimeout, this.#options.clock ?? systemClock);
      this.#sweeper.add(this);
    }
    this.#wait++;
    this.#waiting = true;
  }

  #queue(reply: Uint8Array | string): void {
    if (typeof reply === "string") {
      this.#text += reply;
    } else {
      const parts = (this.#parts ??= []);
      if (this.#text !== "") parts.push(Buffer.from(this.#text, "utf8"));
      this.#text = "";
      parts.push(reply);
    }
    this.#batchBytes += reply.length;
  }

  /** Writes the queued replies; false when there were none. */
  #flush(): boolean {
    if (this.#batchBytes === 0) return false;
    const parts = this.#parts;
    if (parts === undefined || parts.length === 0) {
      this.#writer.write(this.#text);
    } else {
      if (this.#text !== "") parts.push(Buffer.from(this.#text, "utf8"));
      // One copy into one write costs less than a writev of many small buffers.
      this.#writer.write(parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts));
      parts.length = 0;
    }
    this.#text = "";
    this.#batchBytes = 0;
    return true;
  }
}
