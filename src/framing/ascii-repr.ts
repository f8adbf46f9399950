/**
 * Python's `ascii()` of a `str` and `repr()` of a `bytes`, byte for byte: the
 * seeds format replies with `%a` (`Echoed: 'hello'`) and logs with `%r` of
 * bytes (`received b'...'`).
 *
 * @module
 */

const PLAIN_ASCII = /^[\x20-\x26\x28-\x5b\x5d-\x7e]*$/;
const NEEDS_ESCAPE_SINGLE = /[^\x20-\x26\x28-\x5b\x5d-\x7e]/gu;
const NEEDS_ESCAPE_DOUBLE = /[^\x20-\x21\x23-\x5b\x5d-\x7e]/gu;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** Python's choice: single quotes unless the text holds `'` and no `"`. */
function pickQuote(hasSingle: boolean, hasDouble: boolean): string {
  return hasSingle && !hasDouble ? '"' : "'";
}

/**
 * Python's `ascii(s)` for a string `s`: the text in quotes with every character
 * outside printable ASCII escaped, so the result is pure printable ASCII
 * (`\x20`–`\x7e`).
 *
 * - Quotes: `'...'`, or `"..."` when `s` contains `'` and no `"`. The quote in
 *   use is escaped (`'it\'s "x"'`); the other one is not.
 * - `\\` for a backslash; `\t`, `\n`, `\r`; other code points below `0x20` and
 *   `0x7f` as `\xNN`.
 * - Non-ASCII by code point, lower-case hex: `\xNN` up to `0xff`, `\uNNNN` up
 *   to `0xffff`, `\UNNNNNNNN` above (an astral character is one escape, never
 *   a surrogate pair).
 * - A lone surrogate (which a JS string can hold) is escaped as `\udNNN`, as
 *   Python does for a `str` holding one.
 *
 * `asciiRepr("")` is `''`.
 */
export function asciiRepr(s: string): string {
  if (PLAIN_ASCII.test(s)) return `'${s}'`;
  const quote = pickQuote(s.includes("'"), s.includes('"'));
  // A regex pass copies runs of printable ASCII in bulk, not character by character.
  const escaped = s.replace(quote === "'" ? NEEDS_ESCAPE_SINGLE : NEEDS_ESCAPE_DOUBLE, escapeChar);
  return `${quote}${escaped}${quote}`;
}

function escapeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp === 0x09) return "\\t";
  if (cp === 0x0a) return "\\n";
  if (cp === 0x0d) return "\\r";
  if (cp >= 0x20 && cp < 0x7f) return `\\${ch}`;
  if (cp <= 0xff) return `\\x${hex(cp, 2)}`;
  if (cp <= 0xffff) return `\\u${hex(cp, 4)}`;
  return `\\U${hex(cp, 8)}`;
}

/**
 * Python's `repr(b)` for a `bytes` value `b`: `b'...'` with printable ASCII
 * bytes as themselves and the rest escaped.
 *
 * - Quotes as in {@link asciiRepr}: `b"..."` when the bytes hold `'` (0x27) and
 *   no `"` (0x22), otherwise `b'...'` with `'` escaped.
 * - `\\`, `\t`, `\n`, `\r`; every other byte below `0x20` or from `0x7f` up as
 *   `\xNN` (lower-case hex).
 *
 * `bytesRepr(new Uint8Array())` is `b''`. A `Buffer` may be passed.
 */
export function bytesRepr(b: Uint8Array): string {
  const quote = pickQuote(b.includes(0x27), b.includes(0x22));
  const quoteByte = quote.charCodeAt(0);
  const parts: string[] = ["b", quote];
  for (const byte of b) {
    if (byte >= 0x20 && byte < 0x7f) {
      const ch = String.fromCharCode(byte);
      parts.push(byte === 0x5c || byte === quoteByte ? `\\${ch}` : ch);
    } else if (byte === 0x09) parts.push("\\t");
    else if (byte === 0x0a) parts.push("\\n");
    else if (byte === 0x0d) parts.push("\\r");
    else parts.push(`\\x${hex(byte, 2)}`);
  }
  parts.push(quote);
  return parts.join("");
}
