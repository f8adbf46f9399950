/**
 * The calculator server of seed 002 (`example3`/`example6`): a welcome line,
 * then per-connection `sum`/`product` mode over comma-separated integers.
 *
 * @module
 */

import { type CalculatorOptions, CalculatorSession } from "../framing/calculator.js";
import type { LineConnection, LineSession, LinesEnd } from "../streams/line-session.js";
import type { StreamReader } from "../streams/stream-reader.js";
import type { AppWriter } from "./app-options.js";
import {
  type LineAppOptions,
  lineAppServer,
  lineTimedOut,
  lineTooLong,
  serveLineApp,
} from "./line-app.js";
import type { LinesHandler } from "../streams/serve-lines.js";
import type { LineTrace } from "./line-trace.js";

/** Options of {@link calculator}: the app's and the session's (`maxDigits`, `maxResultDigits`). */
export interface CalculatorAppOptions extends LineAppOptions, CalculatorOptions {}

/**
 * Serves one calculator connection: sends `<welcome: starting in sum mode>\n`,
 * then answers each line as `CalculatorSession.handleLine` says, in this
 * connection's own mode, until `quit`, EOF or shutdown; the caller
 * (startServer) closes it afterwards. A line over the limit gets
 * `ERROR. Line too long (more than N bytes)\r\n` and the connection stays open.
 * A line that outlives `lineTimeout` gets `ERROR. Line not completed within
 * N s\r\n` and rejects with serveLines' `TimeoutError`, as does the server's
 * idle timeout: the caller logs it and closes the connection.
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
): Promise<LinesEnd> {
  return serveLineApp(reader, writer, options, calculatorSession);
}

/**
 * The `startServer` handler of {@link calculator} for `options`, made once per
 * options object: given to startServer as it is, it serves each connection
 * with no promise to follow (less memory per idle connection than a handler
 * that calls {@link calculator}).
 * @throws {RangeError} for bad options.
 */
export function calculatorServer(options: CalculatorAppOptions): LinesHandler {
  return lineAppServer(options, calculatorSession);
}

function calculatorSession(
  options: CalculatorAppOptions,
  conn: LineConnection,
  trace: LineTrace | undefined,
): LineSession {
  return new CalculatorLines(options, conn, trace);
}

// The reply to a line of plain numbers is built here, one per mode, its head
// written once: the result's digits and `'\r\n` go after the head, then the
// whole reply is one append (measured: three appends per reply cost more).
// A safe integer has at most 16 digits, and a sign.
const RESULT_ROOM = 17;
const SUM = replyTemplate("Sum");
const PRODUCT = replyTemplate("Product");

function replyTemplate(label: string): { bytes: Buffer; head: number; views: Buffer[] } {
  const head = Buffer.from(`${label} of input numbers: '`, "latin1");
  const bytes = Buffer.alloc(head.length + RESULT_ROOM + 3);
  head.copy(bytes);
  // views[n] is the template's first n bytes: a whole reply is appended whole, by one
  // `set`, where a range of a buffer is copied byte by byte (see ReplyBytes.add).
  const views = Array.from({ length: bytes.length + 1 }, (_, n) => bytes.subarray(0, n));
  return { bytes, head: head.length, views };
}

/**
 * Appends the reply to a line of plain numbers: `Sum of input numbers: 'N'\r\n`
 * (or `Product`), N written in decimal as `${result}` would write it, with
 * no string built: in a ping-pong profile the socket's path for a string
 * reply (UTF-8 encoding, flattening) cost about 0.5 µs per reply.
 */
function appendResult(conn: LineConnection, product: boolean, result: number): void {
  const { bytes, head, views } = product ? PRODUCT : SUM;
  let at = head;
  if (result < 0) bytes[at++] = 0x2d;
  let rest = Math.abs(result);
  let digits = 1;
  for (let power = 10; power <= rest; power *= 10) digits++;
  at += digits;
  const end = at;
  do {
    const digit = rest % 10;
    bytes[--at] = 0x30 + digit;
    rest = (rest - digit) / 10;
  } while (rest > 0);
  bytes[end] = 0x27;
  bytes[end + 1] = 0x0d;
  bytes[end + 2] = 0x0a;
  conn.append(views[end + 3] as Buffer);
}

/** A calculator session as a line session: the framing's state machine, answering in place. */
class CalculatorLines extends CalculatorSession implements LineSession {
  readonly #conn: LineConnection;
  readonly #trace: LineTrace | undefined;

  constructor(options: CalculatorAppOptions, conn: LineConnection, trace: LineTrace | undefined) {
    super({
      maxDigits: options.maxDigits,
      maxResultDigits: options.maxResultDigits,
      reportNumbers: trace !== undefined,
    });
    this.#conn = conn;
    this.#trace = trace;
  }

  onLineBytes(bytes: Buffer, start: number, end: number): string | undefined {
    if (this.#trace === undefined) {
      const result = this.plainResult(bytes, start, end);
      if (result !== undefined) {
        appendResult(this.#conn, this.mode === "product", result);
        return undefined;
      }
    }
    const reply = this.answer(bytes, start, end);
    if (this.#trace !== undefined) {
      const { logged } = this;
      if (logged !== undefined) this.#trace.line(logged);
    }
    if (this.closed) this.#conn.close();
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
