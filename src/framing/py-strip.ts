/**
 * Python's `str.strip()` and `str.rstrip()` without arguments, with Python's own
 * idea of whitespace (`str.isspace()`), which differs from JavaScript's
 * `String.prototype.trim()`: Python counts the ASCII separators `\x1c`–`\x1f`
 * and `\x85` as whitespace, and does not count U+FEFF (the BOM).
 *
 * @module
 */

/**
 * Whether the code point is whitespace for Python's `str.isspace()` (Python 3.11,
 * Unicode 14): `\t \n \v \f \r`, `\x1c`–`\x1f`, space, `\x85`, `\xa0`, U+1680,
 * U+2000–U+200A, U+2028, U+2029, U+202F, U+205F and U+3000.
 *
 * Not whitespace: U+180E, U+200B (zero width space), U+FEFF (BOM), `\0`, `\x7f`.
 * Every whitespace code point is in the BMP, so a UTF-16 code unit may be passed.
 */
export function isPySpace(codePoint: number): boolean {
  if (codePoint <= 0x20) {
    return codePoint === 0x20 || (codePoint >= 0x09 && codePoint <= 0x0d) || codePoint >= 0x1c;
  }
  if (codePoint < 0x85) return false;
  return (
    codePoint === 0x85 ||
    codePoint === 0xa0 ||
    codePoint === 0x1680 ||
    (codePoint >= 0x2000 && codePoint <= 0x200a) ||
    codePoint === 0x2028 ||
    codePoint === 0x2029 ||
    codePoint === 0x202f ||
    codePoint === 0x205f ||
    codePoint === 0x3000
  );
}

/**
 * Python's `s.rstrip()`: `s` without its trailing whitespace (see {@link isPySpace}).
 *
 * Returns `s` itself when nothing is stripped, `""` for an all-whitespace string.
 * Lone surrogates are never whitespace and are kept.
 */
export function rstrip(s: string): string {
  let end = s.length;
  while (end > 0 && isPySpace(s.charCodeAt(end - 1))) end--;
  return end === s.length ? s : s.slice(0, end);
}

/**
 * Python's `s.lstrip()`: `s` without its leading whitespace (see {@link isPySpace}).
 *
 * Returns `s` itself when nothing is stripped, `""` for an all-whitespace string.
 */
export function lstrip(s: string): string {
  let start = 0;
  while (start < s.length && isPySpace(s.charCodeAt(start))) start++;
  return start === 0 ? s : s.slice(start);
}

/**
 * Python's `s.strip()`: `s` without leading and trailing whitespace (see
 * {@link isPySpace}). Whitespace inside the string is kept: `strip(" a b ")` is `"a b"`.
 */
export function strip(s: string): string {
  return lstrip(rstrip(s));
}
