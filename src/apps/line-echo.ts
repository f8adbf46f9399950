/**
 * The line echo server of seed 002 (`example1`), one connection at a time of
 * many: `Echoed: %a\r\n` for each line, `connection closed\r\n` on `quit`.
 *
 * @module
 */

import { lineEchoReply } from "../framing/line-echo.js";
import type { StreamReader } from "../streams/stream-reader.js";
import type { AppWriter } from "./app-options.js";
import {
  type LineAppOptions,
  type LineHandler,
  type LineLoopEnd,
  serveSeedLines,
} from "./line-server.js";

/** Options of {@link lineEcho}. */
export type LineEchoOptions = LineAppOptions;

/**
 * Serves one line echo connection until `quit`, EOF or shutdown; the caller
 * (startServer) closes it afterwards. Replies are those of `lineEchoReply`
 * (`ERROR. Input is not valid UTF-8\r\n` where the seed crashed); a line over
 * the limit gets `ERROR. Line too long (more than N bytes)\r\n`. A line that
 * outlives `lineTimeout` rejects with serveLines' `TimeoutError`, as does the
 * server's idle timeout: the caller logs it and closes the connection.
 *
 * Logs at debug level, as the seed prints: `Received connection from (...)`,
 * `(HOST, PORT) --> LINE` for each echoed line, `(HOST, PORT) quit` at the end
 * (whatever ended it). A lost peer ends the connection quietly.
 */
export function lineEcho(
  reader: StreamReader,
  writer: AppWriter,
  options: LineEchoOptions,
): Promise<LineLoopEnd> {
  return serveSeedLines(reader, writer, options, new LineEcho());
}

/** The line echo as a {@link LineHandler}. */
class LineEcho implements LineHandler {
  closed = false;
  logged: string | undefined;

  answer(bytes: Buffer, start: number, end: number): Uint8Array {
    const { reply, close, text } = lineEchoReply(bytes.subarray(start, end));
    this.closed = close;
    this.logged = text;
    return reply;
  }
}
