/**
 * RESP framing (Redis's protocol) over a `StreamReader`: each command is an
 * array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or an inline line
 * (`GET k\r\n`, as from telnet or `nc -C`).
 *
 * @module
 */

import { IncompleteReadError, LimitOverrunError, type StreamReader } from "asyncnet";

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

/**
 * Reads commands one at a time, keeping its place inside a command whose
 * bytes have not all arrived, so that {@link nextNow} can parse every
 * buffered command in one synchronous burst and {@link next} waits only for
 * the bytes still missing.
 */
export class RespReader {
  readonly #reader: StreamReader;
  /** The arguments of the multi-bulk command being read, or null between commands. */
  #args: Buffer[] | null = null;
  #missing = 0;
  /** The length of the bulk string whose bytes come next, or -1 when a line comes next. */
  #bulk = -1;

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
      if (this.#bulk >= 0) {
        const bytes = this.#reader.readExactlyNow(this.#bulk + 2);
        if (bytes === null) return null;
        const command = this.#onBulk(bytes);
        if (command !== null) return command;
      } else {
        const line = this.#readLineNow();
        if (line === null) return null;
        const command = this.#onLine(line);
        if (command !== null) return command;
      }
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
      let command: Buffer[] | null;
      if (this.#bulk >= 0) {
        command = this.#onBulk(await this.#reader.readExactly(this.#bulk + 2));
      } else {
        let line: Buffer;
        try {
          line = await this.#reader.readUntil(CRLF);
        } catch (error) {
          if (error instanceof IncompleteReadError && this.#args === null) {
            if (error.partial.length === 0) return null;
          }
          throw translate(error);
        }
        command = this.#onLine(line);
      }
      if (command !== null) return command;
    }
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

  /** A line with its `\r\n`: a command's header, a bulk string's header, or an inline command. */
  #onLine(line: Buffer): Buffer[] | null {
    const end = line.length - 2;
    if (this.#args === null) {
      if (line[0] !== STAR) return inline(line.subarray(0, end));
      const count = parseCount(line, end, MAX_ARGS, "multibulk length");
      if (count <= 0) return [];
      this.#args = [];
      this.#missing = count;
      return null;
    }
    if (line[0] !== DOLLAR) {
      throw new RespProtocolError(`expected '$', got '${String.fromCharCode(line[0] ?? 0)}'`);
    }
    this.#bulk = parseCount(line, end, MAX_BULK, "bulk length");
    if (this.#bulk < 0) throw new RespProtocolError("invalid bulk length");
    return null;
  }

  #onBulk(bytes: Buffer): Buffer[] | null {
    const length = this.#bulk;
    if (bytes[length] !== 0x0d || bytes[length + 1] !== 0x0a) {
      throw new RespProtocolError("bulk string not followed by CRLF");
    }
    this.#bulk = -1;
    const args = this.#args as Buffer[];
    args.push(bytes.subarray(0, length));
    if (--this.#missing > 0) return null;
    this.#args = null;
    return args;
  }
}

/** `-?\d{1,10}` in `line[1, end)` as a number, at most `max`, read from the bytes (no string). */
function parseCount(line: Buffer, end: number, max: number, what: string): number {
  let p = 1;
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
