/**
 * The calculator of seed 002 (`example3`/`example6`) as a pure per-connection
 * state machine: lines in, reply bytes out. No sockets.
 *
 * @module
 */

import { rstrip } from "./py-strip.js";
import { PYTHON_INT_MAX_STR_DIGITS, parsePythonInt } from "./python-int.js";

/** The calculation a session applies to a line of numbers. */
export type CalculatorMode = "sum" | "product";

/** Options of a {@link CalculatorSession}. */
export interface CalculatorOptions {
  /**
   * Most digits of one input number, as Python's `int()` limit: a longer number
   * answers the ordinary `ERROR. Enter only integers separated by commas\n`
   * line, as the seed does (Python raises a `ValueError` that the seed
   * catches). Positive integer or `Infinity`. Default 4300.
   */
  maxDigits?: number;
  /**
   * Most digits (sign not counted) of a result. A larger result is refused
   * with `ERROR. Result too large (more than N digits)\r\n` and the connection
   * stays open; the seed crashed there (Python's `str()` of the result raised
   * outside its `try`). Positive integer or `Infinity`. Default 4300.
   */
  maxResultDigits?: number;
  /**
   * Fill {@link CalculatorReply.numbers} (for the seed's `--> LINE` log).
   * Turn off when not logging, to save decoding every line. Default `true`.
   */
  reportNumbers?: boolean;
}

/** What to do after one line. */
export interface CalculatorReply {
  /** Text to send back, always ASCII (so its UTF-8 and Latin-1 bytes agree); never empty. */
  reply: string;
  /** `true` after `quit`: send `reply`, then close the connection. */
  close: boolean;
  /**
   * The line (decoded, trailing whitespace stripped) when the seed would log it
   * as `(HOST, PORT) --> LINE`: every line that is not a command, valid or not.
   * Absent for commands, for bytes that are not UTF-8, and with `reportNumbers: false`.
   */
  numbers?: string;
}

const WELCOME = Buffer.from("<welcome: starting in sum mode>\n", "latin1");
const QUIT = "connection closed\r\n";
const TO_SUM = "<switching to sum mode>\r\n";
const TO_PRODUCT = "<switching to product mode>\r\n";
const NOT_INTEGERS = "ERROR. Enter only integers separated by commas\n";

function validateLimit(name: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`Invalid ${name}: expected a number, got ${typeof value}`);
  }
  if (value !== Number.POSITIVE_INFINITY && !(Number.isSafeInteger(value) && value > 0)) {
    throw new RangeError(`Invalid ${name}: expected a positive integer or Infinity, got ${value}`);
  }
  return value;
}

const LOG10_2 = Math.log10(2);
// One decoder for every session: decoding without `stream` keeps no state, and a
// decoder per connection was a tenth of an idle calculator connection's memory.
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** The most digits a number may have on the fast path: 15 digits always fit a double. */
const FAST_DIGITS = 15;
/** Digits of `Number.MAX_SAFE_INTEGER`, the most a fast-path result can have. */
const SAFE_DIGITS = 16;
const [PLUS, MINUS, COMMA, UNDERSCORE, ZERO, NINE] = [0x2b, 0x2d, 0x2c, 0x5f, 0x30, 0x39];

/** Space, tab and CR: the whitespace the fast path skips (`int()` strips them too). */
function isFastSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d;
}

/** The decimal digits of a safe integer, its sign not counted. */
function digitCount(value: number): number {
  let digits = 1;
  for (let rest = Math.abs(value); rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= ZERO && byte <= NINE;
}

function absDigits(n: bigint): string {
  return (n < 0n ? -n : n).toString();
}

/**
 * log10(|n|) to about 13 significant digits, for n != 0. Read from hex, which
 * V8 writes in linear time, where decimal costs ~30x more for 4300 digits.
 */
function log10Abs(n: bigint): number {
  const hex = (n < 0n ? -n : n).toString(16);
  if (hex.length <= 13) return Math.log10(Number.parseInt(hex, 16));
  return (hex.length - 13) * 4 * LOG10_2 + Math.log10(Number.parseInt(hex.slice(0, 13), 16));
}

/** Multiplies pairwise, so big partial products meet each other only log2(n) times. */
function productOf(nums: bigint[]): bigint {
  let level = nums;
  while (level.length > 1) {
    const next: bigint[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(
        i + 1 < level.length
          ? (level[i] as bigint) * (level[i + 1] as bigint)
          : (level[i] as bigint),
      );
    }
    level = next;
  }
  return level[0] ?? 1n;
}

/**
 * One connection's calculator (seed 002), in `sum` mode at first.
 *
 * Send {@link welcome} on connect, then pass each line to {@link handleLine}
 * and send its reply. A line is the bytes before `\n`, without the `\n`; it is
 * decoded as UTF-8 (a BOM is kept, as Python's `utf-8` codec keeps it) and its
 * trailing whitespace stripped as Python's `str.rstrip()` does (so a telnet
 * `\r` goes). Then, comparing exactly (case and leading space matter):
 *
 * | line        | reply                                              |
 * | ----------- | -------------------------------------------------- |
 * | `quit`      | `connection closed\r\n`, `close: true`             |
 * | `sum`       | `<switching to sum mode>\r\n`                      |
 * | `product`   | `<switching to product mode>\r\n`                  |
 * | numbers     | `Sum of input numbers: 'N'\r\n` or `Product of input numbers: 'N'\r\n` |
 * | other       | `ERROR. Enter only integers separated by commas\n` (`\n` only, as the seed) |
 *
 * "Numbers" is the line split on every `,`, each piece accepted by Python's
 * `int()` (see {@link parsePythonInt}): `" 1 , 2"` is 3, `1_000` is 1000, `+5`,
 * `-0`, `٣` (Arabic-Indic three) are fine; an empty line, `1,,2`, `1,` and
 * `1.5` are errors. There is always at least one piece, so a product of no
 * numbers cannot happen. Results are exact `bigint`s, written in decimal.
 *
 * Beyond the seed, which crashed on these, the connection stays open:
 * - bytes that are not UTF-8 answer the `ERROR. Enter only integers...` line;
 * - NUL and other control characters are never part of a number, so they
 *   answer the same line unless `rstrip` removed them (`1,2\x1c` is 3);
 * - a result of more than `maxResultDigits` digits answers
 *   `ERROR. Result too large (more than N digits)\r\n`. A product is refused
 *   from an estimate (the sum of the operands' log10) before it is computed,
 *   so a hostile line cannot make the server multiply for long; a sum costs no
 *   more than reading its operands, so it is computed and then measured.
 */
export class CalculatorSession {
  /** `<welcome: starting in sum mode>\n`, to send when the connection opens. */
  readonly welcome: Buffer = WELCOME;
  readonly #maxDigits: number;
  readonly #maxResultDigits: number;
  readonly #reportNumbers: boolean;
  #mode: CalculatorMode = "sum";
  #closed = false;
  #logged: string | undefined;

  /**
   * @throws {TypeError} when an option is not a number.
   * @throws {RangeError} when an option is not a positive integer or `Infinity`.
   */
  constructor(options: CalculatorOptions = {}) {
    this.#maxDigits = validateLimit("maxDigits", options.maxDigits ?? PYTHON_INT_MAX_STR_DIGITS);
    this.#maxResultDigits = validateLimit(
      "maxResultDigits",
      options.maxResultDigits ?? PYTHON_INT_MAX_STR_DIGITS,
    );
    this.#reportNumbers = options.reportNumbers ?? true;
  }

  /** The current mode: `sum` until a `product` line, and back on `sum`. */
  get mode(): CalculatorMode {
    return this.#mode;
  }

  /** Whether `quit` was received; no more lines may be handled then. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * What the seed logs for the line last answered (`--> LINE`): the line
   * decoded, trailing whitespace stripped, when it was not a command and was
   * UTF-8; undefined otherwise and with `reportNumbers: false`.
   */
  get logged(): string | undefined {
    return this.#logged;
  }

  /**
   * Handles one line (the bytes before `\n`) and says what to send back.
   *
   * @throws {Error} when called after `quit` closed the session.
   */
  handleLine(line: Uint8Array): CalculatorReply {
    const reply = this.answer(line, 0, line.length);
    const numbers = this.#logged;
    return numbers === undefined
      ? { reply, close: this.#closed }
      : { reply, close: this.#closed, numbers };
  }

  /**
   * {@link handleLine} for the line `bytes[start, end)`, returning only the
   * reply: {@link closed} and {@link logged} tell the rest. Allocates nothing
   * but the reply for a line of plain numbers.
   *
   * @throws {Error} when called after `quit` closed the session.
   */
  answer(bytes: Uint8Array, start: number, end: number): string {
    if (this.#closed) throw new Error("Cannot handle line: the session was closed by quit");
    this.#logged = undefined;
    const fast = this.#plain(bytes, start, end);
    if (fast !== undefined) {
      this.#logPlain(bytes, start, end);
      const result = `${fast}`;
      return this.#mode === "product"
        ? `Product of input numbers: '${result}'\r\n`
        : `Sum of input numbers: '${result}'\r\n`;
    }
    let text: string;
    try {
      text = rstrip(UTF8.decode(bytes.subarray(start, end)));
    } catch {
      return NOT_INTEGERS;
    }
    if (text === "quit") {
      this.#closed = true;
      return QUIT;
    }
    if (text === "sum" || text === "product") {
      this.#mode = text;
      return text === "sum" ? TO_SUM : TO_PRODUCT;
    }
    if (this.#reportNumbers) this.#logged = text;
    return this.#calculate(text);
  }

  /**
   * The common line, answered without a reply string: when `bytes[start, end)`
   * is plain ASCII numbers whose result fits a double exactly, that result
   * (the reply is then `Sum of input numbers: '${result}'\r\n`, or
   * `Product` in product mode, with `-0` written `0`); `undefined` for any
   * other line, which {@link answer} then handles. With a number,
   * {@link logged} is that line's, as `answer` would set it; with
   * `undefined`, nothing changed (not `logged` either) until `answer` is
   * called. After `quit` it is `undefined` (and `answer` throws).
   */
  plainResult(bytes: Uint8Array, start: number, end: number): number | undefined {
    if (this.#closed) return undefined;
    const result = this.#plain(bytes, start, end);
    if (result !== undefined) this.#logPlain(bytes, start, end);
    return result;
  }

  #logPlain(bytes: Uint8Array, start: number, end: number): void {
    this.#logged = this.#reportNumbers
      ? rstrip(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString("latin1"))
      : undefined;
  }

  // Measured fast path (the calculator's hot spot in `npm run bench`): plain ASCII
  // numbers whose result fits a double exactly are computed from the bytes, with no
  // decoding, splitting or bigint. Anything else (commands, errors, big numbers,
  // other whitespace) returns undefined and takes the general path, which decides.
  #plain(line: Uint8Array, start: number, end: number): number | undefined {
    const product = this.#mode === "product";
    const maxDigits = Math.min(FAST_DIGITS, this.#maxDigits);
    let acc = product ? 1 : 0;
    let i = start;
    for (;;) {
      while (i < end && isFastSpace(line[i] as number)) i++;
      let negative = false;
      if (i < end && (line[i] === PLUS || line[i] === MINUS)) negative = line[i++] === MINUS;
      let value = 0;
      let digits = 0;
      while (i < end) {
        const byte = line[i] as number;
        if (byte >= ZERO && byte <= NINE) {
          value = value * 10 + (byte - ZERO);
          digits++;
        } else if (!(byte === UNDERSCORE && digits > 0 && i + 1 < end && isDigit(line[i + 1]))) {
          break;
        }
        i++;
      }
      if (digits === 0 || digits > maxDigits) return undefined;
      while (i < end && isFastSpace(line[i] as number)) i++;
      if (negative) value = -value;
      acc = product ? acc * value : acc + value;
      if (!(Math.abs(acc) <= Number.MAX_SAFE_INTEGER)) return undefined;
      if (i === end) break;
      if (line[i] !== COMMA) return undefined;
      i++;
    }
    if (this.#maxResultDigits < SAFE_DIGITS && digitCount(acc) > this.#maxResultDigits) {
      return undefined;
    }
    // -0 is 0, as Python prints int("-0").
    return acc === 0 ? 0 : acc;
  }

  #calculate(text: string): string {
    const nums: bigint[] = [];
    for (const piece of text.split(",")) {
      try {
        nums.push(parsePythonInt(piece, this.#maxDigits));
      } catch {
        return NOT_INTEGERS;
      }
    }
    const result = this.#mode === "sum" ? this.#sum(nums) : this.#product(nums);
    if (result === undefined) return this.#tooLarge();
    const label = this.#mode === "sum" ? "Sum" : "Product";
    return `${label} of input numbers: '${result}'\r\n`;
  }

  #sum(nums: bigint[]): bigint | undefined {
    let total = 0n;
    for (const n of nums) total += n;
    return absDigits(total).length > this.#maxResultDigits ? undefined : total;
  }

  #product(nums: bigint[]): bigint | undefined {
    if (nums.includes(0n)) return 0n;
    let log10 = 0;
    for (const n of nums) log10 += log10Abs(n);
    // The float sum is off by far less than 1, so this never refuses a result
    // that fits; what passes is at most one digit over and is checked exactly.
    if (log10 > this.#maxResultDigits + 1) return undefined;
    const product = productOf(nums);
    return absDigits(product).length > this.#maxResultDigits ? undefined : product;
  }

  #tooLarge(): string {
    return `ERROR. Result too large (more than ${this.#maxResultDigits} digits)\r\n`;
  }
}
