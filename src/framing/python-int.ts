/**
 * Python 3.11's `int(text)` (base 10) as a parser to `bigint`: the rule the
 * calculator uses for each comma-separated piece.
 *
 * @module
 */

import { asciiRepr } from "./ascii-repr.js";
import { isPySpace } from "./py-strip.js";

/** Python 3.11's default `sys.get_int_max_str_digits()`. */
export const PYTHON_INT_MAX_STR_DIGITS = 4300;

const ASCII_INT = /^[\t\n\v\f\r ]*([+-]?)([0-9]+)[\t\n\v\f\r ]*$/;

/**
 * First code point of every run of ten decimal digits (general category Nd) in
 * Unicode 14.0, the version Python 3.11 uses; the digit's value is its offset
 * in the run. Fixed here rather than read from `/\p{Nd}/u` because Node's ICU is
 * newer (Unicode 15+ adds Kawi, Nag Mundari and others, which Python 3.11
 * rejects), and because scanning the code space costs ~80 ms.
 */
const ND_RUNS: readonly number[] = [
  0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6,
  0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50,
  0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0,
  0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730,
  0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2,
  0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
];

/**
 * The value (0–9) of a Unicode decimal digit as Python 3.11 sees it
 * (`unicodedata.decimal`), or -1 when the code point is not one. Covers every
 * script's digits (`٣` is 3, `１` is 1, `𝟎` is 0), not superscripts (`²`).
 */
export function decimalDigitValue(codePoint: number): number {
  let lo = 0;
  let hi = ND_RUNS.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const start = ND_RUNS[mid] as number;
    if (codePoint < start) hi = mid - 1;
    else if (codePoint >= start + 10) lo = mid + 1;
    else return codePoint - start;
  }
  return -1;
}

function validateMaxDigits(maxDigits: number): void {
  if (typeof maxDigits !== "number") {
    throw new TypeError(`Invalid maxDigits: expected a number, got ${typeof maxDigits}`);
  }
  if (
    maxDigits !== Number.POSITIVE_INFINITY &&
    !(Number.isSafeInteger(maxDigits) && maxDigits > 0)
  ) {
    throw new RangeError(
      `Invalid maxDigits: expected a positive integer or Infinity, got ${maxDigits}`,
    );
  }
}

function invalid(text: string): SyntaxError {
  const shown = text.length > 200 ? text.slice(0, 200) : text;
  return new SyntaxError(`Invalid literal for int() with base 10: ${asciiRepr(shown)}`);
}

function tooLong(maxDigits: number, digits: number): RangeError {
  return new RangeError(
    `Exceeds the limit (${maxDigits} digits) for integer string conversion: value has ${digits} digits`,
  );
}

/**
 * CPython's `_PyUnicode_TransformDecimalAndSpaceToASCII`: keep code points below
 * 0x7f, turn non-ASCII whitespace into a space and decimal digits into ASCII
 * digits, and anything else into `?` (which no literal accepts).
 */
function toAsciiForm(text: string): string {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x7f) out += ch;
    else if (isPySpace(cp)) out += " ";
    else {
      const value = decimalDigitValue(cp);
      out += value < 0 ? "?" : String.fromCharCode(0x30 + value);
    }
  }
  return out;
}

function isAsciiSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isAsciiDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Parses `text` exactly as Python 3.11's `int(text)` does in base 10, returning
 * a `bigint` (exact at any size up to `maxDigits`).
 *
 * Accepted: surrounding whitespace, an optional `+` or `-`, then one or more
 * decimal digits with single underscores between digits (`1_000`). Digits may
 * come from any script (Unicode category Nd as of Unicode 14, Python 3.11's
 * version; see {@link decimalDigitValue}) and may be mixed. Leading zeros are
 * fine (`007` is 7) and `-0` is `0n`.
 *
 * Whitespace, as in CPython: ASCII `\t \n \v \f \r` and space, and every
 * non-ASCII character for which `str.isspace()` holds (`\xa0`, U+3000, ...).
 * Python's `int()` does NOT accept the ASCII separators `\x1c`–`\x1f` around a
 * number, although `str.strip()` removes them.
 *
 * Rejected with a `SyntaxError` (`Invalid literal for int() with base 10: '...'`,
 * the text shown as by `ascii()`, cut to 200 characters): the empty or
 * all-whitespace string, a sign alone or twice, space between sign and digits,
 * a leading, trailing or doubled underscore, `_` next to the sign, any other
 * character (`1.0`, `1e3`, `0x10`, `²`, NUL, U+200B, U+FEFF, lone surrogates).
 *
 * Rejected with a `RangeError` when the literal has more than `maxDigits`
 * digits (underscores and sign not counted, leading zeros counted), like
 * Python's `sys.set_int_max_str_digits` limit. As in CPython, the digit run is
 * checked for underscores first and for length second, before what follows it:
 * `"1" * 4301 + "x"` is a `RangeError`, `"1" * 4301 + "_"` a `SyntaxError`.
 *
 * @param maxDigits Most digits accepted: a positive integer or `Infinity`
 *   (Python's `0`, no limit). Default 4300. A `TypeError` or `RangeError` for
 *   anything else.
 */
export function parsePythonInt(
  text: string,
  maxDigits: number = PYTHON_INT_MAX_STR_DIGITS,
): bigint {
  validateMaxDigits(maxDigits);
  // Plain ASCII without underscores is the common case: one regex, one BigInt().
  const fast = ASCII_INT.exec(text);
  if (fast !== null) {
    const digits = fast[2] as string;
    if (digits.length > maxDigits) throw tooLong(maxDigits, digits.length);
    return BigInt(`${fast[1]}${digits}`);
  }
  return parseGeneral(text, toAsciiForm(text), maxDigits);
}

function parseGeneral(text: string, s: string, maxDigits: number): bigint {
  const n = s.length;
  let i = 0;
  while (i < n && isAsciiSpace(s.charCodeAt(i))) i++;
  let sign = "";
  if (s[i] === "+" || s[i] === "-") sign = s[i++] as string;
  if (!isAsciiDigit(s.charCodeAt(i))) throw invalid(text);
  let digits = "";
  let runStart = i;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (isAsciiDigit(c)) {
      i++;
    } else if (c === 0x5f) {
      if (!isAsciiDigit(s.charCodeAt(i + 1))) throw invalid(text);
      digits += s.slice(runStart, i);
      runStart = ++i;
    } else {
      break;
    }
  }
  digits += s.slice(runStart, i);
  if (digits.length > maxDigits) throw tooLong(maxDigits, digits.length);
  while (i < n && isAsciiSpace(s.charCodeAt(i))) i++;
  if (i !== n) throw invalid(text);
  return BigInt(`${sign}${digits}`);
}
