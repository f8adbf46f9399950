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
}

/** What to do after one line. */
export interface CalculatorReply {
  /** Bytes to send back; never empty. */
  reply: Buffer;
  /** `true` after `quit`: send `reply`, then close the connection. */
  close: boolean;
  /**
   * The line (decoded, trailing whitespace stripped) when the seed would log it
   * as `(HOST, PORT) --> LINE`: every line that is not a command, valid or not.
   * Absent for commands and for bytes that are not UTF-8.
   */
  numbers?: string;
}

const ascii = (s: string): Buffer => Buffer.from(s, "latin1");

const WELCOME = ascii("<welcome: starting in sum mode>\n");
const QUIT = ascii("connection closed\r\n");
const TO_SUM = ascii("<switching to sum mode>\r\n");
const TO_PRODUCT = ascii("<switching to product mode>\r\n");
const NOT_INTEGERS = ascii("ERROR. Enter only integers separated by commas\n");

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
  readonly #decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  #mode: CalculatorMode = "sum";
  #closed = false;

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
   * Handles one line (the bytes before `\n`) and says what to send back.
   *
   * @throws {Error} when called after `quit` closed the session.
   */
  handleLine(line: Uint8Array): CalculatorReply {
    if (this.#closed) throw new Error("Cannot handle line: the session was closed by quit");
    let text: string;
    try {
      text = rstrip(this.#decoder.decode(line));
    } catch {
      return { reply: NOT_INTEGERS, close: false };
    }
    if (text === "quit") {
      this.#closed = true;
      return { reply: QUIT, close: true };
    }
    if (text === "sum" || text === "product") {
      this.#mode = text;
      return { reply: text === "sum" ? TO_SUM : TO_PRODUCT, close: false };
    }
    return { reply: this.#calculate(text), close: false, numbers: text };
  }

  #calculate(text: string): Buffer {
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
    return ascii(`${label} of input numbers: '${result}'\r\n`);
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

  #tooLarge(): Buffer {
    return ascii(`ERROR. Result too large (more than ${this.#maxResultDigits} digits)\r\n`);
  }
}
