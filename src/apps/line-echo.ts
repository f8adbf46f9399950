/**
 * The line echo server of seed 002 (`example1`), one connection at a time of
 * many: `Echoed: %a\r\n` for each line, `connection closed\r\n` on `quit`.
 *
 * @module
 */

import { lineEchoReply } from "../framing/line-echo.js";
import type { LineConnection, LineSession, LinesEnd } from "../streams/line-session.js";
import type { StreamReader } from "../streams/stream-reader.js";
import type { AppWriter } from "./app-options.js";
import { type LineAppOptions, lineTimedOut, lineTooLong, serveLineApp } from "./line-app.js";
import type { LineTrace } from "./line-trace.js";

/** Options of {@link lineEcho}. */
export type LineEchoOptions = LineAppOptions;

/**
 * Serves one line echo connection until `quit`, EOF or shutdown; the caller
 * (startServer) closes it afterwards. Replies are those of `lineEchoReply`
 * (`ERROR. Input is not valid UTF-8\r\n` where the seed crashed); a line over
 * the limit gets `ERROR. Line too long (more than N bytes)\r\n`. A line that
 * outlives `lineTimeout` gets `ERROR. Line not completed within N s\r\n` and
 * rejects with serveLines' `TimeoutError`, as does the server's idle timeout:
 * the caller logs it and closes the connection.
 *
 * Logs at debug level, as the seed prints: `Received connection from (...)`,
 * `(HOST, PORT) --> LINE` for each echoed line, `(HOST, PORT) quit` at the end
 * (whatever ended it). A lost peer ends the connection quietly.
 */
export function lineEcho(
  reader: StreamReader,
  writer: AppWriter,
  options: LineEchoOptions,
): Promise<LinesEnd> {
  return serveLineApp(reader, writer, options, lineEchoSession);
}

function lineEchoSession(
  _options: LineEchoOptions,
  conn: LineConnection,
  trace: LineTrace | undefined,
): LineSession {
  return new LineEcho(conn, trace);
}

/** The line echo as a line session. */
class LineEcho implements LineSession {
  readonly #conn: LineConnection;
  readonly #trace: LineTrace | undefined;

  constructor(conn: LineConnection, trace: LineTrace | undefined) {
    this.#conn = conn;
    this.#trace = trace;
  }

  onLineBytes(bytes: Buffer, start: number, end: number): Uint8Array {
    const { reply, close, text } = lineEchoReply(bytes.subarray(start, end));
    if (text !== undefined) this.#trace?.line(text);
    if (close) this.#conn.close();
    return reply;
  }

  onLineTooLong(maxLine: number): Buffer {
    return lineTooLong(maxLine);
  }

  onLineTimeout(lineTimeout: number): string {
    return lineTimedOut(lineTimeout);
  }

  onEnd(end: LinesEnd | "error", error?: Error): void {
    this.#trace?.ended(end, error);
  }
}
