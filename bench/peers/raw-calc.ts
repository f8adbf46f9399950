/**
 * Raw `node:net` calculator (seed 002's rules): the floor for any Node design.
 *
 * Lines are found in the received Buffers with `indexOf`, parsed byte by byte, and all
 * replies to one chunk go out in one write: no per-line promises, strings or regexps on
 * the fast path. Sums stay in doubles while they are exact and move to BigInt past
 * 2^53; products are BigInt. Pieces are what Python's `int()` takes in ASCII: spaces
 * around, a sign, digits with single underscores between them. Anything else is the
 * error line. A line longer than 64 KiB closes the connection.
 *
 * Usage: node dist/bench/peers/raw-calc.js [--host 127.0.0.1] [--port 0]
 */
import net from "node:net";
import { parsePeerArgs } from "./peer-args.js";

const WELCOME = "<welcome: starting in sum mode>\n";
const ERROR_LINE = "ERROR. Enter only integers separated by commas\n";
const MAX_LINE = 65536;
const COMMA = 0x2c;
const UNDERSCORE = 0x5f;

function isSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

function equalsAscii(buf: Buffer, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    if (buf[start + i] !== word.charCodeAt(i)) return false;
  }
  return true;
}

/** Parses `buf[start, end)` as comma-separated integers; null when one piece is not one. */
function parseIntegers(buf: Buffer, start: number, end: number): (number | bigint)[] | null {
  const values: (number | bigint)[] = [];
  let i = start;
  for (;;) {
    while (i < end && isSpace(buf[i] as number)) i++;
    let negative = false;
    if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) negative = buf[i++] === 0x2d;
    const digitsStart = i;
    let digits = 0;
    let value = 0;
    let underscore = false;
    while (i < end) {
      const byte = buf[i] as number;
      if (isDigit(byte)) {
        value = value * 10 + (byte - 0x30);
        digits++;
      } else if (
        byte === UNDERSCORE &&
        digits > 0 &&
        i + 1 < end &&
        isDigit(buf[i + 1] as number)
      ) {
        underscore = true;
      } else {
        break;
      }
      i++;
    }
    if (digits === 0) return null;
    if (digits <= 15) {
      values.push(negative ? -value : value);
    } else {
      let text = buf.toString("latin1", digitsStart, i);
      if (underscore) text = text.replaceAll("_", "");
      const big = BigInt(text);
      values.push(negative ? -big : big);
    }
    while (i < end && isSpace(buf[i] as number)) i++;
    if (i === end) return values;
    if (buf[i] !== COMMA) return null;
    i++;
  }
}

function sum(values: (number | bigint)[]): string {
  let small = 0;
  let big = 0n;
  for (const value of values) {
    if (typeof value === "number") {
      small += value;
      // Keep the double exact: hand it to the BigInt before it can round.
      if (small > 2 ** 52 || small < -(2 ** 52)) {
        big += BigInt(small);
        small = 0;
      }
    } else {
      big += value;
    }
  }
  return big === 0n ? String(small) : String(big + BigInt(small));
}

function product(values: (number | bigint)[]): string {
  let result = 1n;
  for (const value of values) result *= BigInt(value);
  return String(result);
}

class Session {
  #mode: "sum" | "product" = "sum";
  #rest: Buffer | null = null;
  #closed = false;

  constructor(readonly socket: net.Socket) {
    socket.write(WELCOME);
  }

  onData(chunk: Buffer): void {
    if (this.#closed) return;
    const buf = this.#rest === null ? chunk : Buffer.concat([this.#rest, chunk]);
    this.#rest = null;
    let out = "";
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      out += this.#answer(buf, start, nl);
      start = nl + 1;
      if (this.#closed) break;
    }
    if (!this.#closed && start < buf.length) {
      if (buf.length - start > MAX_LINE) {
        this.#closed = true;
        this.socket.destroy();
        return;
      }
      // A copy, so that a short tail does not keep the whole chunk alive.
      this.#rest = Buffer.from(buf.subarray(start));
    }
    this.#flush(out);
  }

  onEnd(): void {
    if (this.#closed) return;
    // As Python's readline() at EOF: a last line without its newline is still a line.
    const rest = this.#rest;
    this.#rest = null;
    const out = rest === null ? "" : this.#answer(rest, 0, rest.length);
    this.#closed = true;
    this.socket.end(out);
  }

  #flush(out: string): void {
    if (this.#closed) {
      this.socket.end(out);
    } else if (out.length > 0 && !this.socket.write(out, "latin1")) {
      this.socket.pause();
    }
  }

  #answer(buf: Buffer, start: number, end: number): string {
    while (end > start && isSpace(buf[end - 1] as number)) end--;
    if (equalsAscii(buf, start, end, "quit")) {
      this.#closed = true;
      return "connection closed\r\n";
    }
    if (equalsAscii(buf, start, end, "sum")) {
      this.#mode = "sum";
      return "<switching to sum mode>\r\n";
    }
    if (equalsAscii(buf, start, end, "product")) {
      this.#mode = "product";
      return "<switching to product mode>\r\n";
    }
    const values = parseIntegers(buf, start, end);
    if (values === null) return ERROR_LINE;
    return this.#mode === "sum"
      ? `Sum of input numbers: '${sum(values)}'\r\n`
      : `Product of input numbers: '${product(values)}'\r\n`;
  }
}

const { host, port } = parsePeerArgs(process.argv.slice(2));

const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
  const session = new Session(socket);
  socket.on("data", (chunk: Buffer) => session.onData(chunk));
  socket.on("drain", () => socket.resume());
  socket.on("end", () => session.onEnd());
  socket.on("error", () => socket.destroy());
});

server.listen({ host, port }, () => {
  const address = server.address() as net.AddressInfo;
  process.stdout.write(`listening on ${address.address} ${address.port}\n`);
});
