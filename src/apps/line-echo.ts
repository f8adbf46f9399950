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
import {
  type LineAppOptions,
  lineAppServer,
  lineTimedOut,
  lineTooLong,
  serveLineApp,
} from "./line-app.js";
import type { LinesHandler } from "../streams/serve-lines.js";
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

/**
 * The `startServer` handler of {@link lineEcho} for `options`, made once per
 * options object: given to startServer as it is, it serves each connection
 * with no promise to follow (less memory per idle connection than a handler
 * that calls {@link lineEcho}).
 * @throws {RangeError} for bad options.
 */
export function lineEchoServer(options: LineEchoOptions): LinesHandler {
  return lineAppServer(options, lineEchoSession);
}

function lineEchoSession(
  _options: LineEchoOptions,
  conn: LineConnection,
  trace: LineTrace | undefined,
): LineSession {
  return new LineEcho(conn, trace);
}

/** Whitespace that Python's `str.rstrip()` cuts among ASCII: `\t`–`\r`, `\x1c`–`\x1f`, space. */
function isAsciiSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d) || (b >= 0x1c && b <= 0x1f);
}

/**
 * Where `bytes[start, end)` ends once Python's `rstrip()` has cut its trailing ASCII
 * whitespace, when what is left is printable ASCII that `ascii()` neither escapes nor
 * quotes otherwise (no `'` or `\\`); -1 for any other line, which `lineEchoReply` answers.
 * The profile's fast path: no decoding, no repr, no Buffer per line.
 */
function plainEnd(bytes: Buffer, start: number, end: number): number {
  let stripped = end;
  while (stripped > start && isAsciiSpace(bytes[stripped - 1] as number)) stripped--;
  for (let i = start; i < stripped; i++) {
    const b = bytes[i] as number;
    if (b < 0x20 || b > 0x7e || b === 0x27 || b === 0x5c) return -1;
  }
  return stripped;
}

const ECHOED = Buffer.from("Echoed: '", "latin1");
const QUOTE_CRLF = Buffer.from("'\r\n", "latin1");

/** Whether `bytes[start, end)` is `quit`. */
function isQuit(bytes: Buffer, start: number, end: number): boolean {
  return (
    end - start === 4 &&
    bytes[start] === 0x71 &&
    bytes[start + 1] === 0x75 &&
    bytes[start + 2] === 0x69 &&
    bytes[start + 3] === 0x74
  );
}

/** The line echo as a line session. */
class LineEcho implements LineSession {
  readonly #conn: LineConnection;
  readonly #trace: LineTrace | undefined;

  constructor(conn: LineConnection, trace: LineTrace | undefined) {
    this.#conn = conn;
    this.#trace = trace;
  }

  onLineBytes(bytes: Buffer, start: number, end: number): Uint8Array | string | undefined {
    const plain = plainEnd(bytes, start, end);
    if (plain !== -1 && !isQuit(bytes, start, plain)) {
      // The bytes are the text: ascii() adds only the quotes, rstrip() only cut ASCII.
      // Copied between the quotes as they are: no decoding, no string per line.
      this.#trace?.line(bytes.toString("latin1", start, plain));
      const conn = this.#conn;
      conn.append(ECHOED);
      conn.append(bytes, start, plain);
      conn.append(QUOTE_CRLF);
      return undefined;
    }
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
