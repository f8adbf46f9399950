/**
 * The line echo server of seed 002 (`example1`), one connection at a time of
 * many: `Echoed: %a\r\n` for each line, `connection closed\r\n` on `quit`.
 *
 * @module
 */

import { lineEchoReply } from "../framing/line-echo.js";
import type { StreamReader } from "../streams/stream-reader.js";
import type { AppWriter } from "./app-options.js";
import { type LineAppOptions, serveSeedLines } from "./line-server.js";

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
export async function lineEcho(
  reader: StreamReader,
  writer: AppWriter,
  options: LineEchoOptions,
): Promise<void> {
  await serveSeedLines(reader, writer, options, lineEchoReply, (reply) => reply.text);
}
