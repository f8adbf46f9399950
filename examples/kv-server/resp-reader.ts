/**
 * RESP framing (Redis's protocol) over a `StreamReader`: each command is an
 * array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or an inline line
 * (`GET k\r\n`, as from telnet or `nc -C`).
 *
 * @module
 */

import {
  IncompleteReadError,
  LimitOverrunError,
  type StreamReader,
  type TokenVisitor,
} from "asyncnet";

/** The longest bulk string accepted, in bytes (Redis allows 512 MB; an example needs less). */
export const MAX_BULK = 1024 * 1024;
/** The most arguments in one command. */
export const MAX_ARGS = 1024 * 1024;

/** A malformed command: the server answers `-ERR Protocol error: ...` and closes, as Redis does. */
export class RespProtocolError extends Error {
  override readonly name = "RespProtocolError";
}

const CRLF = "\r\n";
const STAR = 0x2a;
const DOLLAR = 0x24;
const MINUS = 0x2d;
const ZERO = 0x30;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Reads commands one at a time, keeping its place inside a command whose
 * bytes have not all arrived, so that {@link nextNow} can parse every
 * buffered command in one synchronous burst and {@link next} waits only for
 * the bytes still missing.
 *
 * It is the reader's {@link TokenVisitor}: `reader.readTokensNow` hands it
 * each buffered token in place (a header line, or a bulk string's bytes and
 * `\r\n`, as {@link want} says), so a command costs a Buffer per argument and
 * none per header. What `readTokensNow` leaves (EOF, an over-long line) goes
 * through `readUntilNow` / `readExactlyNow`, which say why.
 */
export class RespReader implements TokenVisitor {
  readonly #reader: StreamReader;
  /** The arguments of the multi-bulk command being read, or null between commands. */
  #args: Buffer[] | null = null;
  #missing = 0;
  /** The command {@link onToken} completed, until nextNow or next returns it. */
  #ready: Buffer[] | null = null;
  /** The token that comes next: -1 a line (through `\r\n`), else a bulk string's bytes and `\r\n`. */
  want = -1;

  constructor(reader: StreamReader) {
    this.#reader = reader;
  }

  /**
   * The next command if its bytes are buffered, else `null` (the part read so
   * far is kept). An empty array for an empty inline line.
   * @throws {RespProtocolError} for malformed input.
   * @throws {IncompleteReadError} at EOF within a command.
   */
  nextNow(): Buffer[] | null {
    for (;;) {
      this.#reader.readTokensNow(CRLF, this);
      const ready = this.#take();
      if (ready !== null) return ready;
      const bytes = this.want >= 0 ? this.#reader.readExactlyNow(this.want) : this.#readLineNow();
      if (bytes === null) return null;
      this.onToken(bytes, 0, bytes.length);
    }
  }

  /**
   * The next command, waiting for its bytes; `null` at EOF between commands.
   * @throws {RespProtocolError} for malformed input.
   * @throws {IncompleteReadError} at EOF within a command.
   */
  async next(): Promise<Buffer[] | null> {
    for (;;) {
      const ready = this.nextNow();
      if (ready !== null) return ready;
      // Wait (asynchronously, once) for what is missing; the rest is parsed synchronously again.
      let bytes: Buffer;
      if (this.want >= 0) {
        bytes = await this.#reader.readExactly(this.want);
      } else {
        try {
          bytes = await this.#reader.readUntil(CRLF);
        } catch (error) {
          if (error instanceof IncompleteReadError && this.#args === null) {
            if (error.partial.length === 0) return null;
          }
          throw translate(error);
        }
      }
      this.onToken(bytes, 0, bytes.length);
      const command = this.#take();
      if (command !== null) return command;
    }
  }

  /**
   * One token, `bytes[start, end)`: a line with its `\r\n` (a command's
   * header, a bulk string's header, or an inline command), or a bulk string's
   * bytes and `\r\n`. Returns false once a command is complete.
   * @throws {RespProtocolError} for malformed input.
   */
  onToken(bytes: Buffer, start: number, end: number): boolean {
    if (this.want >= 0) return this.#onBulk(bytes, start, end);
    if (this.#args === null) {
      if (bytes[start] !== STAR) {
        this.#ready = inline(bytes.subarray(start, end - 2));
        return false;
      }
      const count = parseCount(bytes, start, end - 2, MAX_ARGS, "multibulk length");
      if (count <= 0) {
        this.#ready = [];
        return false;
      }
      this.#args = [];
      this.#missing = count;
      return true;
    }
    if (bytes[start] !== DOLLAR) {
      throw new RespProtocolError(`expected '$', got '${String.fromCharCode(bytes[start] ?? 0)}'`);
    }
    const size = parseCount(bytes, start, end - 2, MAX_BULK, "bulk length");
    if (size < 0) throw new RespProtocolError("invalid bulk length");
    this.want = size + 2;
    return true;
  }

  #onBulk(bytes: Buffer, start: number, end: number): boolean {
    if (bytes[end - 2] !== CR || bytes[end - 1] !== LF) {
      throw new RespProtocolError("bulk string not followed by CRLF");
    }
    this.want = -1;
    const args = this.#args as Buffer[];
    // A view, not a copy: the reader never overwrites bytes it handed over.
    args.push(bytes.subarray(start, end - 2));
    if (--this.#missing > 0) return true;
    this.#args = null;
    this.#ready = args;
    return false;
  }

  #take(): Buffer[] | null {
    const ready = this.#ready;
    this.#ready = null;
    return ready;
  }

  #readLineNow(): Buffer | null {
    try {
      return this.#reader.readUntilNow(CRLF);
    } catch (error) {
      // At EOF between commands: let next() see it and end cleanly.
      if (error instanceof IncompleteReadError && this.#args === null) {
        if (error.partial.length === 0) return null;
      }
      throw translate(error);
    }
  }
}

/** `-?\d{1,10}` in `line[start + 1, end)` as a number, at most `max`, read from the bytes (no string). */
function parseCount(line: Buffer, start: number, end: number, max: number, what: string): number {
  let p = start + 1;
  const negative = line[p] === MINUS;
  if (negative) p++;
  const digits = end - p;
  if (digits < 1 || digits > 10) throw new RespProtocolError(`invalid ${what}`);
  let value = 0;
  for (; p < end; p++) {
    const digit = (line[p] as number) - ZERO;
    if (digit < 0 || digit > 9) throw new RespProtocolError(`invalid ${what}`);
    value = value * 10 + digit;
  }
  if (negative) value = -value;
  if (value > max) throw new RespProtocolError(`invalid ${what}`);
  return value;
}

function inline(line: Buffer): Buffer[] {
  const text = line.toString("latin1").trim();
  if (text.length === 0) return [];
  return text.split(/[ \t]+/).map((word) => Buffer.from(word, "latin1"));
}

function translate(error: unknown): unknown {
  if (error instanceof LimitOverrunError) return new RespProtocolError("too big inline request");
  return error;
}
