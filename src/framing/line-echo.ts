/**
 * The line echo of seed 002 (`example1`) as a pure function: one line in, the
 * reply bytes out. No sockets.
 *
 * @module
 */

import { asciiRepr } from "./ascii-repr.js";
import { rstrip } from "./py-strip.js";

/** What to do after one line of the line echo. */
export interface LineEchoReply {
  /** Bytes to send back; never empty, always ASCII. */
  reply: Buffer;
  /** `true` after `quit`: send `reply`, then close the connection. */
  close: boolean;
  /**
   * The decoded line, trailing whitespace stripped, when the seed would log it
   * as `(HOST, PORT) --> LINE`; absent for `quit` and for bytes that are not UTF-8.
   */
  text?: string;
}

const QUIT = Buffer.from("connection closed\r\n", "latin1");
const NOT_UTF8 = Buffer.from("ERROR. Input is not valid UTF-8\r\n", "latin1");
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The line echo's answer to one line (the bytes before `\n`, without it).
 *
 * The line is decoded as UTF-8 (a BOM is kept, as Python's `utf-8` codec keeps
 * it) and its trailing whitespace stripped as Python's `str.rstrip()` does, so
 * a telnet `\r` goes. Then:
 *
 * - exactly `quit` (case and leading space matter): `connection closed\r\n`
 *   and `close: true`;
 * - anything else, the empty line included: `Echoed: ` + Python's `ascii()` of
 *   the stripped line + `\r\n` (`hello` gives `Echoed: 'hello'\r\n`, `""` gives
 *   `Echoed: ''\r\n`, `é` gives `Echoed: '\xe9'\r\n`).
 *
 * Bytes that are not valid UTF-8 (where the seed crashed with a
 * `UnicodeDecodeError`) answer `ERROR. Input is not valid UTF-8\r\n` and the
 * connection stays open.
 */
export function lineEchoReply(line: Uint8Array): LineEchoReply {
  let text: string;
  try {
    text = rstrip(decoder.decode(line));
  } catch {
    return { reply: NOT_UTF8, close: false };
  }
  if (text === "quit") return { reply: QUIT, close: true };
  return { reply: Buffer.from(`Echoed: ${asciiRepr(text)}\r\n`, "latin1"), close: false, text };
}
