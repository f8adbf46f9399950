/**
 * The calculator of seed 002 for the raw peers, tuned by profile: lines are found in the
 * received bytes with `indexOf` and parsed byte by byte, the sum or product computed in
 * doubles while it is exact, and the replies to one chunk are written as bytes into one
 * scratch buffer and handed out as one Buffer: no per-line strings, arrays, promises or
 * regexps on the fast path. A line the doubles cannot hold exactly (more than 15
 * digits, or a result past 2^53) is parsed again to BigInt.
 *
 * Replies are asyncnet calc-server's byte for byte, limits included: a number of more
 * than 4,300 digits is the error line, as Python's `int()` refuses it; a result of more
 * than 4,300 digits is `ERROR. Result too large (more than 4300 digits)\r\n`; a line
 * longer than 64 KiB is `ERROR. Line too long (more than 65536 bytes)\r\n` and is
 * dropped up to its newline. A line with a byte above 0x7f (never sent by the bench)
 * is decoded and parsed by the project's own `parsePythonInt`, so that Unicode digits
 * and spaces stay exact without a second copy of their tables. `lib/transcript.ts`
 * checks all this against calc-server before every bench run.
 */
import { Buffer } from "node:buffer";
import { rstrip } from "../../src/framing/py-strip.js";
import { parsePythonInt } from "../../src/framing/python-int.js";

const LIMIT = 65536;
const MAX_DIGITS = 4300;
const ascii = (text: string) => Buffer.from(text, "latin1");
export const WELCOME = ascii("<welcome: starting in sum mode>\n");
const QUIT = ascii("connection closed\r\n");
const TO_SUM = ascii("<switching to sum mode>\r\n");
const TO_PRODUCT = ascii("<switching to product mode>\r\n");
const NOT_INTEGERS = ascii("ERROR. Enter only integers separated by commas\n");
const TOO_LARGE = ascii(`ERROR. Result too large (more than ${MAX_DIGITS} digits)\r\n`);
const TOO_LONG = ascii(`ERROR. Line too long (more than ${LIMIT} bytes)\r\n`);
const COMMAND_QUIT = ascii("quit");
const COMMAND_SUM = ascii("sum");
const COMMAND_PRODUCT = ascii("product");
const SUM_HEAD = ascii("Sum of input numbers: '");
const PRODUCT_HEAD = ascii("Product of input numbers: '");
const TAIL = ascii("'\r\n");
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const [COMMA, UNDERSCORE, PLUS, MINUS, ZERO, NINE] = [0x2c, 0x5f, 0x2b, 0x2d, 0x30, 0x39];
/** Digits that always fit a double exactly (10^15 < 2^53). */
const FAST_DIGITS = 15;

/** Whitespace `int()` strips around a number: `\t \n \v \f \r` and space. */
const isIntSpace = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d);
/** Whitespace `str.rstrip()` strips in ASCII: also the separators 0x1c–0x1f. */
const isStripSpace = (b: number) =>
  b === 0x20 || (b >= 0x09 && b <= 0x0d) || (b >= 0x1c && b <= 0x1f);
const isDigit = (b: number | undefined) => b !== undefined && b >= ZERO && b <= NINE;

// Replies are built in place in a slab and handed out as a view of it, once per chunk: no
// copy. What was handed out is never written again (the socket may still hold it); a slab
// nearly full is left to the views that keep it and a new one begins.
const SLAB = 64 * 1024;
let slab = Buffer.allocUnsafe(SLAB);
/** Where the current chunk's replies begin in the slab, and where they end so far. */
let from = 0;
let used = 0;

function reserve(n: number): void {
  if (used + n <= slab.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(SLAB, 2 * (used - from + n)));
  slab.copy(bigger, 0, from, used);
  used -= from;
  from = 0;
  slab = bigger;
}

/** Appends `bytes`: a byte loop, since the replies' pieces are short (measured faster than `set`). */
function put(bytes: Buffer): void {
  const n = bytes.length;
  reserve(n);
  const out = slab;
  let at = used;
  for (let k = 0; k < n; k++) out[at++] = bytes[k] as number;
  used = at;
}

/** The newline at or after `at`: a byte loop over a short line, `indexOf` (memchr) past that. */
function newlineAt(buf: Buffer, at: number): number {
  const stop = Math.min(buf.length, at + 128);
  for (let i = at; i < stop; i++) if (buf[i] === 10) return i;
  return stop === buf.length ? -1 : buf.indexOf(10, stop);
}

/** Appends `n`, an integer with |n| <= 2^53, in decimal (`-0` as `0`, as Python). */
function putInteger(n: number): void {
  reserve(17);
  if (n < 0) {
    slab[used++] = MINUS;
    n = -n;
  }
  let digits = 1;
  for (let p = 10; p <= n; p *= 10) digits++;
  let at = used + digits;
  used = at;
  do {
    const q = Math.floor(n / 10);
    slab[--at] = ZERO + (n - q * 10);
    n = q;
  } while (n > 0);
}

function putResult(product: boolean, result: bigint | number | null): void {
  if (result === null) return put(TOO_LARGE);
  put(product ? PRODUCT_HEAD : SUM_HEAD);
  if (typeof result === "number") {
    putInteger(result);
  } else {
    const text = result.toString();
    reserve(text.length);
    used += slab.write(text, used, "latin1");
  }
  put(TAIL);
}

function equalsAscii(buf: Buffer, start: number, end: number, word: Buffer): boolean {
  return end - start === word.length && buf.compare(word, 0, word.length, start, end) === 0;
}

/**
 * The line's numbers in doubles, when every one has at most 15 digits and the running
 * sum or product stays within 2^53: then the result is exact. `undefined` when the line
 * is not plain numbers or does not fit; the exact path decides then.
 */
function fastResult(buf: Buffer, start: number, end: number, product: boolean): number | undefined {
  let acc = product ? 1 : 0;
  let i = start;
  for (;;) {
    while (i < end && isIntSpace(buf[i] as number)) i++;
    let negative = false;
    if (i < end && (buf[i] === PLUS || buf[i] === MINUS)) negative = buf[i++] === MINUS;
    let value = 0;
    let digits = 0;
    while (i < end) {
      const b = buf[i] as number;
      if (b >= ZERO && b <= NINE) {
        value = value * 10 + (b - ZERO);
        digits++;
      } else if (!(b === UNDERSCORE && digits > 0 && isDigit(buf[i + 1]) && i + 1 < end)) {
        break;
      }
      i++;
    }
    if (digits === 0 || digits > FAST_DIGITS) return undefined;
    while (i < end && isIntSpace(buf[i] as number)) i++;
    acc = product ? acc * (negative ? -value : value) : acc + (negative ? -value : value);
    if (!(acc <= Number.MAX_SAFE_INTEGER && acc >= -Number.MAX_SAFE_INTEGER)) return undefined;
    if (i === end) return acc;
    if (buf[i] !== COMMA) return undefined;
    i++;
  }
}

/** The same rules to BigInt, at any size; null when a piece is not an integer. */
function exactNumbers(buf: Buffer, start: number, end: number): bigint[] | null {
  const values: bigint[] = [];
  let i = start;
  for (;;) {
    while (i < end && isIntSpace(buf[i] as number)) i++;
    let sign = "";
    if (i < end && (buf[i] === PLUS || buf[i] === MINUS)) sign = buf[i++] === MINUS ? "-" : "";
    const from = i;
    let digits = 0;
    let underscore = false;
    while (i < end) {
      const b = buf[i] as number;
      if (b >= ZERO && b <= NINE) digits++;
      else if (b === UNDERSCORE && digits > 0 && i + 1 < end && isDigit(buf[i + 1]))
        underscore = true;
      else break;
      i++;
    }
    if (digits === 0 || digits > MAX_DIGITS) return null;
    let text = buf.toString("latin1", from, i);
    if (underscore) text = text.replaceAll("_", "");
    values.push(BigInt(sign + text));
    while (i < end && isIntSpace(buf[i] as number)) i++;
    if (i === end) return values;
    if (buf[i] !== COMMA) return null;
    i++;
  }
}

const digitsOf = (n: bigint) => (n < 0n ? -n : n).toString().length;

/** The exact sum or product, or null when it has more than MAX_DIGITS digits. */
function exactResult(values: bigint[], product: boolean): bigint | null {
  let result: bigint;
  if (!product) {
    result = 0n;
    for (const v of values) result += v;
  } else {
    if (values.includes(0n)) return 0n;
    // A product of numbers of d1…dn digits has at least d1+…+dn-(n-1): refuse
    // before multiplying what cannot fit.
    let least = 1;
    for (const v of values) least += digitsOf(v) - 1;
    if (least > MAX_DIGITS) return null;
    result = 1n;
    for (const v of values) result *= v;
  }
  return digitsOf(result) > MAX_DIGITS ? null : result;
}

/**
 * One connection's calculator: bytes in, reply bytes out, no socket. Used by the raw
 * peers of every runtime, so that they do the same work with their own I/O.
 */
export class CalcSession {
  #product = false;
  #rest: Buffer | null = null;
  /** Dropping the rest of a line that outgrew LIMIT, up to its newline. */
  #dropping = false;
  #closed = false;

  /** Whether `quit` was answered or the input ended: the caller sends the last bytes and closes. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The replies to every line completed by `data`, in one Buffer, or null for none. */
  feed(data: Uint8Array): Buffer | null {
    if (this.#closed) return null;
    const chunk = Buffer.isBuffer(data)
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.length);
    let buf = chunk;
    let start = 0;
    if (this.#dropping) {
      const nl = chunk.indexOf(10);
      if (nl < 0) return null;
      this.#dropping = false;
      start = nl + 1;
    } else if (this.#rest !== null) {
      buf = Buffer.concat([this.#rest, chunk]);
      this.#rest = null;
    }
    used = from;
    for (;;) {
      const nl = newlineAt(buf, start);
      if (nl < 0) break;
      this.#answer(buf, start, nl);
      start = nl + 1;
      if (this.#closed) break;
    }
    if (!this.#closed && start < buf.length) {
      if (buf.length - start > LIMIT) {
        put(TOO_LONG);
        this.#dropping = true;
      } else {
        // A copy, so that a short tail does not keep the whole chunk alive.
        this.#rest = Buffer.from(buf.subarray(start));
      }
    }
    return this.#take();
  }

  /** The input ended: the reply to a last line without its newline, or null. */
  end(): Buffer | null {
    if (this.#closed) return null;
    // As Python's readline() at EOF: a last line without its newline is still a line.
    used = from;
    const rest = this.#rest;
    this.#rest = null;
    if (rest !== null) this.#answer(rest, 0, rest.length);
    this.#closed = true;
    return this.#take();
  }

  /** The replies built so far: a view of the slab, which is not written there again. */
  #take(): Buffer | null {
    if (used === from) return null;
    const out = slab.subarray(from, used);
    from = used;
    if (slab.length - used < 4096) {
      slab = Buffer.allocUnsafe(SLAB);
      from = used = 0;
    }
    return out;
  }

  #answer(buf: Buffer, start: number, end: number): void {
    if (end - start > LIMIT) return put(TOO_LONG);
    const product = this.#product;
    const fast = fastResult(buf, start, end, product);
    if (fast !== undefined) return putResult(product, fast);
    let high = false;
    for (let i = start; i < end; i++) high ||= (buf[i] as number) > 0x7f;
    if (high) return this.#answerText(buf, start, end);
    while (end > start && isStripSpace(buf[end - 1] as number)) end--;
    if (this.#command(buf, start, end)) return;
    const values = exactNumbers(buf, start, end);
    if (values === null) return put(NOT_INTEGERS);
    putResult(product, exactResult(values, product));
  }

  /** Answers `quit`, `sum` or `product` (`buf[start, end)`, stripped); false for anything else. */
  #command(buf: Buffer, start: number, end: number): boolean {
    if (equalsAscii(buf, start, end, COMMAND_QUIT)) {
      this.#closed = true;
      put(QUIT);
    } else if (equalsAscii(buf, start, end, COMMAND_SUM)) {
      this.#product = false;
      put(TO_SUM);
    } else if (equalsAscii(buf, start, end, COMMAND_PRODUCT)) {
      this.#product = true;
      put(TO_PRODUCT);
    } else {
      return false;
    }
    return true;
  }

  /** A line with non-ASCII bytes: decoded, then Python's rules from the project's parser. */
  #answerText(buf: Buffer, start: number, end: number): void {
    let text: string;
    try {
      text = rstrip(UTF8.decode(buf.subarray(start, end)));
    } catch {
      return put(NOT_INTEGERS);
    }
    // Non-ASCII whitespace may have hidden a command: "sum\u00a0" is sum.
    if (text === "quit" || text === "sum" || text === "product") {
      const word = ascii(text);
      this.#command(word, 0, word.length);
      return;
    }
    const values: bigint[] = [];
    for (const piece of text.split(",")) {
      try {
        values.push(parsePythonInt(piece, MAX_DIGITS));
      } catch {
        return put(NOT_INTEGERS);
      }
    }
    putResult(this.#product, exactResult(values, this.#product));
  }
}
