/**
 * The calculator server of seed 002 (`example3`/`example6`): a welcome line,
 * then per-connection `sum`/`product` mode over comma-separated integers.
 *
 * @module
 */

import { type CalculatorOptions, CalculatorSession } from "../framing/calculator.js";
import type { StreamReader } from "../streams/stream-reader.js";
import type { AppWriter } from "./app-options.js";
import { type LineAppOptions, type LineLoopEnd, serveSeedLines } from "./line-server.js";

/** Options of {@link calculator}: the app's and the session's (`maxDigits`, `maxResultDigits`). */
export interface CalculatorAppOptions extends LineAppOptions, CalculatorOptions {}

/**
 * Serves one calculator connection: sends `<welcome: starting in sum mode>\n`,
 * then answers each line as `CalculatorSession.handleLine` says, in this
 * connection's own mode, until `quit`, EOF or shutdown; the caller
 * (startServer) closes it afterwards. A line over the limit gets
 * `ERROR. Line too long (more than N bytes)\r\n` and the connection stays open.
 * A line that outlives `lineTimeout` rejects with serveLines' `TimeoutError`,
 * as does the server's idle timeout: the caller logs it and closes the connection.
 *
 * Logs at debug level, as the seed prints: `Received connection from (...)`,
 * `(HOST, PORT) --> LINE` for each line that is not a command, and
 * `(HOST, PORT) quit` when the connection ends, whatever ended it.
 *
 * @throws {RangeError} (before anything is sent) for bad `maxDigits` / `maxResultDigits`.
 */
export function calculator(
  reader: StreamReader,
  writer: AppWriter,
  options: CalculatorAppOptions,
): Promise<LineLoopEnd> {
  let session: CalculatorSession;
  try {
    session = new CalculatorSession({
      maxDigits: options.maxDigits,
      maxResultDigits: options.maxResultDigits,
      reportNumbers: options.logger.enabled("debug"),
    });
  } catch (error) {
    return Promise.reject(error);
  }
  return serveSeedLines(reader, writer, options, session, session.welcome);
}
