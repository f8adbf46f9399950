/**
 * What the line apps of seed 002 (line echo, calculator) share on top of
 * `serveLines`: their options, their error lines and their debug trace.
 *
 * @module
 */

import type { LineConnection, LineSession, LinesEnd } from "../streams/line-session.js";
import type { StreamReader } from "../streams/stream-reader.js";
import type { Clock } from "../protocols/clock.js";
import { type LinesHandler, serveLines } from "../streams/serve-lines.js";
import type { AppOptions, AppWriter } from "./app-options.js";
import { LineTrace } from "./line-trace.js";

/** Options of the line apps (line echo, calculator). */
export interface LineAppOptions extends AppOptions {
  /** As `ServeLinesOptions.lineTimeout`, in ms. Default 0: no limit. */
  lineTimeout?: number;
  /** As `ServeLinesOptions.clock`. */
  clock?: Clock;
}

/**
 * The line apps' reply to a line longer than the limit: `ERROR. Line too long
 * (more than N bytes)\r\n`. The rest of that line is discarded and the connection stays open.
 */
export function lineTooLong(limit: number): Buffer {
  return Buffer.from(`ERROR. Line too long (more than ${limit} bytes)\r\n`, "latin1");
}

/**
 * The line apps' last line to a connection whose line outlived `lineTimeout`
 * (in ms): `ERROR. Line not completed within N s\r\n`.
 */
export function lineTimedOut(lineTimeout: number): string {
  return `ERROR. Line not completed within ${lineTimeout / 1000} s\r\n`;
}

/** Makes one connection's session of a line app; `trace` is set when debug logging is on. */
export type LineAppSession<O> = (
  options: O,
  conn: LineConnection,
  trace: LineTrace | undefined,
) => LineSession;

// One serveLines handler per app and options object (the CLI shares one options
// object between all connections), so that connections share its checked options.
const handlers = new WeakMap<LineAppSession<never>, WeakMap<object, LinesHandler>>();

/**
 * Serves one connection of a line app: `makeSession`'s session on
 * `serveLines`, with `options.limit` as `maxLine` and, when the logger is at
 * debug level, a {@link LineTrace} for the session to log through
 * (`Received connection from (...)` is logged once the session is made, so
 * that bad options log and send nothing). The session answers over-long and
 * late lines with {@link lineTooLong} and {@link lineTimedOut}, and calls
 * `trace.ended` from its `onEnd`.
 *
 * Resolves with how the connection ended (`"lost"`: the peer went away, quietly);
 * rejects with serveLines' `TimeoutError` for a line over `lineTimeout`, and
 * with a `RangeError` (before anything is sent) for bad options.
 */
export function serveLineApp<O extends LineAppOptions>(
  reader: StreamReader,
  writer: AppWriter,
  options: O,
  makeSession: LineAppSession<O>,
): Promise<LinesEnd> {
  let handler: LinesHandler;
  try {
    handler = lineAppServer(options, makeSession);
  } catch (error) {
    return Promise.reject(error);
  }
  return handler(reader, writer);
}

/**
 * The `startServer` handler of a line app for `options` (the one
 * {@link serveLineApp} uses for them): given to startServer itself, it serves
 * each connection with no promise to follow (see `serveLines`).
 * @throws {RangeError} for bad options.
 */
export function lineAppServer<O extends LineAppOptions>(
  options: O,
  makeSession: LineAppSession<O>,
): LinesHandler {
  let byOptions = handlers.get(makeSession as LineAppSession<never>);
  if (byOptions === undefined) {
    byOptions = new WeakMap();
    handlers.set(makeSession as LineAppSession<never>, byOptions);
  }
  let handler = byOptions.get(options);
  if (handler === undefined) {
    handler = lineAppHandler(options, makeSession);
    byOptions.set(options, handler);
  }
  return handler;
}

function lineAppHandler<O extends LineAppOptions>(
  options: O,
  makeSession: LineAppSession<O>,
): LinesHandler {
  const { logger } = options;
  return serveLines(
    (conn) => {
      const trace = logger.enabled("debug") ? new LineTrace(logger, conn.peer) : undefined;
      const session = makeSession(options, conn, trace);
      trace?.opened();
      return session;
    },
    {
      maxLine: options.limit,
      lineTimeout: options.lineTimeout,
      clock: options.clock,
      signal: options.signal,
      logger,
    },
  );
}
