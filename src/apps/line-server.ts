/**
 * The line loop shared by the line echo and the calculator (seed 002): read a
 * line, answer it, until `quit`, EOF or shutdown.
 *
 * @module
 */

import { LimitOverrunError } from "../errors.js";
import type { StreamReader } from "../streams/stream-reader.js";
import { type AppOptions, type AppWriter, isConnectionLoss, isShutdown } from "./app-options.js";
import { LineDeadline } from "./line-deadline.js";
import { peerOf, pythonAddress } from "./peer.js";

/** A line server's answer to one line. */
export interface LineReply {
  /** Bytes to send back. */
  reply: Uint8Array | string;
  /** Close the connection after `reply`. */
  close: boolean;
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
   * end within this time, or the loop rejects with a `TimeoutError`
   * (`Connection closed: line not completed within N s`) and the caller
   * closes the connection. Checked every `lineTimeout / 2` ms, so the
   * connection goes between `lineTimeout` and 1.5 × `lineTimeout` after the
   * line's first byte. Silence between lines is not measured (that is the
   * server's `idleTimeout`). Default 0: no limit.
   */
  lineTimeout?: number;
}

/** Options of the line apps (line echo, calculator). */
export interface LineAppOptions extends AppOptions {
  /** As {@link ServeLinesOptions.lineTimeout}, in ms. Default 0: no limit. */
  lineTimeout?: number;
}

/** Why {@link serveLines} returned. */
export type LineLoopEnd = "quit" | "eof" | "shutdown";

const NEWLINE = 0x0a;

/**
 * The reply to a line longer than the limit: `ERROR. Line too long (more than
 * N bytes)\r\n`. The rest of that line is discarded and the connection stays open.
 */
export function lineTooLong(limit: number): Buffer {
  return Buffer.from(`ERROR. Line too long (more than ${limit} bytes)\r\n`, "latin1");
}

/** Replies batched from one burst of buffered lines are written early past this many bytes. */
const BATCH_BYTES = 64 * 1024;

/**
 * Reads lines with `reader.readLine()` and writes `handleLine(line)`'s reply to
 * each.
 *
 * `handleLine` gets the line without its `\n` (a `\r` before it is kept; the
 * line apps strip it as Python's `rstrip()` does). A last line that ends at
 * EOF without `\n` is answered too, as Python's `readline()` returns it.
 *
 * Replies are batched: every line already buffered (a client that pipelines)
 * is answered synchronously through `reader.readLineNow()`, and the replies go
 * out in one write when the buffer holds no whole line any more, or every
 * 64 KiB. An interactive client still gets each reply at once. After each
 * write the loop awaits `drain()`, so a client that does not read cannot make
 * the server buffer without bound.
 *
 * - A line longer than the limit gets {@link lineTooLong}'s error line and is
 *   discarded whole (the reader drops the rest of it as it arrives); the loop
 *   goes on with the next line.
 * - Returns `"quit"` after a reply with `close: true`, `"eof"` when the peer
 *   half-closed and every line was answered, `"shutdown"` when `signal` aborted
 *   while the loop waited for data. Every reply is written before it returns.
 * - Rejects with a `TimeoutError` when a line outlives `lineTimeout`, after
 *   writing the replies to the lines before it.
 * - Other read errors (a reset connection) and a rejected `drain()` reject.
 *
 * @throws {RangeError} for a `lineTimeout` that is not an integer >= 0.
 */
export async function serveLines(
  reader: StreamReader,
  writer: AppWriter,
  handleLine: (line: Buffer) => LineReply,
  options: ServeLinesOptions = {},
): Promise<LineLoopEnd> {
  const limit = Math.min(options.limit ?? reader.limit, reader.limit);
  const lineTimeout = options.lineTimeout ?? 0;
  if (!Number.isSafeInteger(lineTimeout) || lineTimeout < 0) {
    throw new RangeError(`Invalid lineTimeout: must be an integer >= 0, got ${lineTimeout}`);
  }
  let deadline: LineDeadline | undefined;
  let discarding = false;
  const readOptions = options.signal === undefined ? undefined : { signal: options.signal };
  let tooLong: Buffer | undefined;
  // Replies of one burst, written at once: strings are joined as they come (the
  // calculator's replies, measured cheaper than a Buffer each), bytes kept apart.
  const parts: Uint8Array[] = [];
  let text = "";
  let batchBytes = 0;
  const queue = (reply: Uint8Array | string) => {
    if (typeof reply === "string") {
      text += reply;
    } else {
      if (text !== "") parts.push(Buffer.from(text, "utf8"));
      text = "";
      parts.push(reply);
    }
    batchBytes += reply.length;
  };
  const flush = (): boolean => {
    if (batchBytes === 0) return false;
    if (parts.length === 0) {
      writer.write(text);
    } else {
      if (text !== "") parts.push(Buffer.from(text, "utf8"));
      // One copy into one write costs less than a writev of many small buffers.
      writer.write(parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts));
    }
    parts.length = 0;
    text = "";
    batchBytes = 0;
    return true;
  };
  try {
    for (;;) {
      let line = reader.readLineNow();
      if (line === null || batchBytes >= BATCH_BYTES) {
        if (flush()) await writer.drain();
        if (line === null) {
          // Only the waits pay for the deadline: bursts go through readLineNow above.
          if (lineTimeout > 0)
            (deadline ??= new LineDeadline(reader, lineTimeout)).begin(discarding);
          try {
            line = await reader.readLine(readOptions);
          } catch (error) {
            deadline?.end();
            if (error instanceof LimitOverrunError) {
              // Nothing left buffered: the reader is still dropping the rest of that line.
              discarding = reader.bufferedSize === 0;
              tooLong ??= lineTooLong(limit);
              queue(tooLong);
              continue;
            }
            if (isShutdown(error, options.signal)) return "shutdown";
            throw error;
          }
          deadline?.end();
        }
      }
      if (line.length === 0) return "eof";
      discarding = false;
      const end = line[line.length - 1] === NEWLINE ? line.length - 1 : line.length;
      if (end > limit) {
        tooLong ??= lineTooLong(limit);
        queue(tooLong);
        continue;
      }
      const answer = handleLine(end === line.length ? line : line.subarray(0, end));
      queue(answer.reply);
      if (answer.close) return "quit";
    }
  } finally {
    deadline?.stop();
    flush();
  }
}

/**
 * Serves one connection of a seed-002 line app: sends `welcome` (if any), runs
 * {@link serveLines} with `handleLine`, and ends quietly when the peer goes away.
 *
 * Logs at debug level, as the seed prints: `Received connection from (...)`,
 * `(HOST, PORT) --> LINE` for each reply whose `logged(reply)` names a line,
 * and `(HOST, PORT) quit` at the end, whatever ended it. Nothing is formatted
 * when debug is off.
 */
export async function serveSeedLines<R extends LineReply>(
  reader: StreamReader,
  writer: AppWriter,
  options: LineAppOptions,
  handleLine: (line: Buffer) => R,
  logged: (reply: R) => string | undefined,
  welcome?: Uint8Array,
): Promise<void> {
  const { logger } = options;
  const debug = logger.enabled("debug");
  const address = debug ? pythonAddress(peerOf(writer)) : "";
  if (debug) logger.debug(`Received connection from ${address}`);
  const handle = debug
    ? (line: Buffer): R => {
        const reply = handleLine(line);
        const text = logged(reply);
        if (text !== undefined) logger.debug(`${address} --> ${text}`);
        return reply;
      }
    : handleLine;
  try {
    if (welcome !== undefined) {
      writer.write(welcome);
      await writer.drain();
    }
    await serveLines(reader, writer, handle, options);
  } catch (error) {
    if (!isConnectionLoss(error)) throw error;
    if (debug) logger.debug(`${address} connection lost: ${(error as Error).message}`);
  } finally {
    if (debug) logger.debug(`${address} quit`);
  }
}
