/**
 * `serveLines`: a line protocol (SMTP-like, Redis inline, IRC, your own) as a
 * `startServer` handler, with batching, backpressure and the line limits built in.
 *
 * @module
 */

import type { Clock } from "../protocols/clock.js";
import { MAX_TIMEOUT_MS } from "../protocols/sweeper.js";
import type { ConnectionLogger } from "./connection-logger.js";
import { type DirectHandler, kServeDirect } from "./handler-ends.js";
import { LineLoop, type LineWriter } from "./line-loop.js";
import type { LineConnection, LineSession, LinesEnd } from "./line-session.js";
import type { StreamReader } from "./stream-reader.js";

/** Options of {@link serveLines}, shared by every connection. */
export interface ServeLinesOptions {
  /**
   * The longest line answered, in bytes without its `\n`; a longer one gets
   * the session's `onLineTooLong` reply. Capped by the reader's `limit`
   * (startServer's `limit` option, 64 KiB by default), which is also the
   * default. A positive integer.
   */
  maxLine?: number;
  /**
   * Slowloris guard, in ms: once a line has begun (bytes buffered without
   * their `\n`, or the rest of an over-long line being discarded), it must
   * end within this time, or the session's `onLineTimeout` reply is sent and
   * the handler rejects with a `TimeoutError` (`Connection closed: line not
   * completed within N s`), so the connection is closed: no earlier than
   * `lineTimeout` and no later than `lineTimeout + max(lineTimeout / 10, 50 ms)`
   * after the line's first byte (or, for a line begun before the loop waited
   * for it, after the wait began). Silence between lines is not measured (that
   * is the server's `idleTimeout`). An integer from 0 to 2³¹ − 1. Default 0:
   * no limit.
   */
  lineTimeout?: number;
  /** The clock of `lineTimeout`. For tests: a virtual clock drives every timeout. Default `systemClock`. */
  clock?: Clock;
  /**
   * Graceful shutdown: once aborted, the lines already buffered are answered,
   * then the loop stops waiting for more and the handler resolves with `"shutdown"`.
   */
  signal?: AbortSignal;
  /** What each session gets as `conn.logger`. Default: a logger that discards everything. */
  logger?: ConnectionLogger;
}

/** The handler {@link serveLines} returns: a `ConnectionHandler` for `startServer`. */
export type LinesHandler = (reader: StreamReader, writer: LineWriter) => Promise<LinesEnd>;

/**
 * Serves a line protocol: for each connection `factory(conn)` makes a
 * {@link LineSession}, whose `welcome` is sent first and whose `onLine` (or
 * zero-copy `onLineBytes`) answers each line, until the session calls
 * `conn.close()`, the peer sends EOF, or `signal` aborts. Use the result as
 * `startServer(serveLines(...), host, port)`, or call it on a pair from
 * `openConnection`.
 *
 * @example A key-value protocol of one's own:
 * ```ts
 * const store = new Map<string, string>();
 * const server = await startServer(
 *   serveLines((conn) => ({
 *     welcome: "+OK kv ready\r\n",
 *     onLine(line) {
 *       const [command = "", key = "", ...value] = line.toString().trimEnd().split(" ");
 *       switch (command.toUpperCase()) {
 *         case "SET": store.set(key, value.join(" ")); return "+OK\r\n";
 *         case "GET": return `${store.get(key) ?? "(nil)"}\r\n`;
 *         case "SLOW": return new Promise((r) => setTimeout(r, 100, "+LATE\r\n")); // keeps its place
 *         case "QUIT": conn.close(); return "+BYE\r\n"; // sent, then closed
 *         case "": return undefined; // an empty line: no reply
 *         default: return `-ERR unknown command '${command}'\r\n`;
 *       }
 *     },
 *     onLineTooLong: (max) => `-ERR line over ${max} bytes\r\n`,
 *   }), { maxLine: 1024, lineTimeout: 5_000 }),
 *   "127.0.0.1", 6380,
 * );
 * ```
 *
 * - Replies go out in line order. The lines already buffered (a client that
 *   pipelines) are answered in one synchronous burst and their replies
 *   written together, every 64 KiB at most; then, if the write buffer is over
 *   its high-water mark, the loop awaits `drain()` before reading on, so a
 *   client that sends without reading stalls only its own connection.
 * - A reply that is a promise holds its place: the replies before it are
 *   written at once, the next line is handed over once it has settled.
 * - A line of more than `maxLine` bytes is discarded whole and answered by
 *   `onLineTooLong` (default `ERR line too long (more than N bytes)\r\n`);
 *   the connection stays open.
 * - A line that outlives `lineTimeout` gets `onLineTimeout`'s reply (default
 *   `ERR line not completed within N s\r\n`), then the handler rejects with a
 *   `TimeoutError`, which startServer reports through `onError`.
 * - The handler resolves with a {@link LinesEnd} (`"lost"` for a peer that
 *   reset the connection: not an error); it rejects when the session throws
 *   or its promise rejects, or on a read error. Either way every reply
 *   produced is written first, and `onEnd` is called.
 *
 * @throws {TypeError} when `factory` is not a function, or an option has the wrong type.
 * @throws {RangeError} when `maxLine` is not a positive integer, or `lineTimeout`
 *   is not an integer from 0 to 2³¹ − 1 (the longest a Node timer waits).
 */
export function serveLines(
  factory: (conn: LineConnection) => LineSession,
  options: ServeLinesOptions = {},
): LinesHandler {
  if (typeof factory !== "function") {
    throw new TypeError("Invalid factory: expected a function");
  }
  const resolved = resolveOptions(options);
  // A connection's loop with the factory's session; throws what the factory or attach throws.
  const open = (reader: StreamReader, writer: LineWriter) => {
    const loop = new LineLoop(reader, writer, resolved);
    loop.attach(factory(loop));
    return loop;
  };
  const handler: LinesHandler & DirectHandler = (reader, writer) => {
    try {
      return open(reader, writer).run();
    } catch (error) {
      return Promise.reject(error);
    }
  };
  // What startServer calls instead: the same, with no promise to follow per connection.
  handler[kServeDirect] = (reader, writer, ends) => {
    let loop: LineLoop;
    try {
      loop = open(reader, writer);
    } catch (error) {
      ends.failed.call(writer, error);
      return;
    }
    loop.serveDirect(ends);
  };
  return handler;
}

function resolveOptions(options: ServeLinesOptions): ServeLinesOptions {
  const { maxLine, lineTimeout = 0, signal, logger, clock } = options;
  if (maxLine !== undefined) {
    if (typeof maxLine !== "number") {
      throw new TypeError(`Invalid maxLine: expected a number, got ${typeof maxLine}`);
    }
    if (!Number.isSafeInteger(maxLine) || maxLine <= 0) {
      throw new RangeError(`Invalid maxLine: must be a positive integer, got ${maxLine}`);
    }
  }
  if (typeof lineTimeout !== "number") {
    throw new TypeError(`Invalid lineTimeout: expected a number, got ${typeof lineTimeout}`);
  }
  if (!Number.isSafeInteger(lineTimeout) || lineTimeout < 0 || lineTimeout > MAX_TIMEOUT_MS) {
    throw new RangeError(
      `Invalid lineTimeout: must be an integer in 0..${MAX_TIMEOUT_MS} ms, got ${lineTimeout}`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError("Invalid signal: expected an AbortSignal");
  }
  if (clock !== undefined && typeof clock?.schedule !== "function") {
    throw new TypeError("Invalid clock: expected a Clock (now, schedule, cancel)");
  }
  if (logger !== undefined) {
    for (const level of ["debug", "info", "warn", "error"] as const) {
      if (typeof logger?.[level] !== "function") {
        throw new TypeError(`Invalid logger: expected a ${level} method`);
      }
    }
  }
  // One frozen object for every connection: the loop passes it to readLine for its signal.
  return Object.freeze({ maxLine, lineTimeout, signal, logger, clock });
}
