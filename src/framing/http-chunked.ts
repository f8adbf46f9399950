/**
 * A decoder of HTTP/1.1's chunked transfer coding (RFC 9112 §7.1), fed with
 * the bytes of a body as they arrive. No sockets.
 *
 * @module
 */

import { HttpBodyTruncatedError, HttpParseError, LimitOverrunError } from "../errors.js";
import { asciiRepr } from "./ascii-repr.js";

/** Options of a {@link ChunkedDecoder}. */
export interface ChunkedDecoderOptions {
  /**
   * Most bytes a chunk-size line may take (size, extensions and line end). One
   * more throws a `LimitOverrunError`. Positive integer; default 4096.
   */
  maxLineBytes?: number;
  /**
   * Most bytes the trailer section may take, its final empty line included.
   * One more throws a `LimitOverrunError`. Positive integer; default 65536.
   */
  maxTrailerBytes?: number;
}

// chunk-size [ chunk-ext ]: hex digits, then `; name[=value]` pieces with optional
// whitespace (BWS) around `;` and `=`; a value is a token or a quoted string.
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QUOTED = '"(?:[^"\\\\]|\\\\.)*"';
const SIZE_LINE = new RegExp(
  `^([0-9A-Fa-f]+)((?:[ \\t]*;[ \\t]*${TOKEN}(?:[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED}))?)*)[ \\t]*$`,
);
// eslint-disable-next-line no-control-regex -- control characters are what a field value may not hold
const FIELD_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\x00-\x08\x0a-\x1f\x7f]*$/;

type State = "size" | "data" | "data-cr" | "data-lf" | "trailer" | "done";

function shown(line: string): string {
  return asciiRepr(line.length > 100 ? `${line.slice(0, 100)}...` : line);
}

/**
 * Decodes a chunked body fed in pieces of any size: a chunk-size line split
 * anywhere (even inside its `\r\n`), empty pieces, a body and what follows it
 * in one piece. Lines end with `\r\n` or a bare `\n` (RFC 9112 §2.2 allows a
 * recipient to accept the latter). Chunk extensions are checked and ignored;
 * trailer fields are checked and kept in {@link trailers}.
 *
 * Errors (the decoder is then spent; every later call throws the same error):
 * - `HttpParseError` (`ERR_HTTP_PARSE`): a chunk-size line that is not hex
 *   digits and well-formed extensions, a size beyond 2^53 - 1, chunk data not
 *   followed by a line end, or a trailer line that is not `name: value`.
 * - `LimitOverrunError` (`ERR_LIMIT_OVERRUN`): a chunk-size line longer than
 *   `maxLineBytes` or a trailer section longer than `maxTrailerBytes`.
 * - `HttpBodyTruncatedError` (`ERR_HTTP_BODY_TRUNCATED`, from {@link end}):
 *   the input ended before the last chunk and its trailer section.
 */
export class ChunkedDecoder {
  readonly #maxLineBytes: number;
  readonly #maxTrailerBytes: number;
  #state: State = "size";
  #line: Buffer[] = [];
  #lineBytes = 0;
  #trailerBytes = 0;
  #remaining = 0;
  #received = 0;
  #trailers: [string, string][] = [];
  #rest: Buffer = Buffer.alloc(0);
  #error: Error | undefined;

  /**
   * @throws {TypeError} when a limit is not a number.
   * @throws {RangeError} when a limit is not a positive integer.
   */
  constructor(options: ChunkedDecoderOptions = {}) {
    this.#maxLineBytes = checkLimit("maxLineBytes", options.maxLineBytes ?? 4096);
    this.#maxTrailerBytes = checkLimit("maxTrailerBytes", options.maxTrailerBytes ?? 65536);
  }

  /** True once the last chunk and the trailer section were decoded. */
  get done(): boolean {
    return this.#state === "done";
  }

  /** Body bytes decoded so far (chunk data only). */
  get received(): number {
    return this.#received;
  }

  /** Trailer fields (name as received, value trimmed), once {@link done}. */
  get trailers(): readonly [name: string, value: string][] {
    return this.#trailers;
  }

  /** The bytes after the chunked body, from the `feed` that completed it; empty before. */
  get rest(): Buffer {
    return this.#rest;
  }

  /**
   * Takes the next bytes; returns the chunk data they hold, as views of
   * `chunk` (copy them to keep them past the caller's reuse of `chunk`). An
   * empty array when they hold none. After {@link done}, returns `[]`.
   *
   * @throws {HttpParseError | LimitOverrunError} see the class.
   */
  feed(chunk: Uint8Array): Buffer[] {
    if (this.#error !== undefined) throw this.#error;
    if (this.#state === "done") return [];
    try {
      return this.#feed(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (error) {
      this.#error = error as Error;
      throw error;
    }
  }

  /**
   * Notes the end of the input (the server closed the connection).
   *
   * @throws {HttpBodyTruncatedError} when the body is not complete: `received`
   *   is the number of data bytes decoded, `expected` is `undefined`.
   * @throws the decoder's earlier error, if it is spent.
   */
  end(): void {
    if (this.#error !== undefined) throw this.#error;
    if (this.#state !== "done") {
      this.#error = new HttpBodyTruncatedError(this.#received, undefined);
      throw this.#error;
    }
  }

  #feed(buf: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < buf.length) {
      switch (this.#state) {
        case "data": {
          const take = Math.min(this.#remaining, buf.length - pos);
          out.push(buf.subarray(pos, pos + take));
          pos += take;
          this.#remaining -= take;
          this.#received += take;
          if (this.#remaining === 0) this.#state = "data-cr";
          break;
        }
        case "data-cr":
        case "data-lf": {
          const byte = buf[pos++];
          if (byte === 0x0d && this.#state === "data-cr") this.#state = "data-lf";
          else if (byte === 0x0a) this.#state = "size";
          else
            throw new HttpParseError(
              "Cannot decode chunked body: chunk data not followed by CRLF",
              "",
            );
          break;
        }
        case "size":
        case "trailer": {
          const line = this.#takeLine(buf, pos);
          if (line === undefined) return out;
          pos = line.next;
          if (this.#state === "size") this.#sizeLine(line.text);
          else this.#trailerLine(line.text);
          // #sizeLine / #trailerLine move the state on.
          if ((this.#state as State) === "done") {
            this.#rest = buf.subarray(pos);
            return out;
          }
          break;
        }
        case "done":
          return out;
      }
    }
    return out;
  }

  /** Collects a line from `buf` at `pos`; `undefined` when it goes on in the next piece. */
  #takeLine(buf: Buffer, pos: number): { text: string; next: number } | undefined {
    const nl = buf.indexOf(0x0a, pos);
    const end = nl === -1 ? buf.length : nl + 1;
    this.#lineBytes += end - pos;
    if (this.#state === "size" && this.#lineBytes > this.#maxLineBytes) {
      throw new LimitOverrunError(
        `Cannot decode chunked body: chunk-size line exceeded limit of ${this.#maxLineBytes} bytes`,
        this.#lineBytes,
      );
    }
    if (this.#state === "trailer" && this.#trailerBytes + this.#lineBytes > this.#maxTrailerBytes) {
      throw new LimitOverrunError(
        `Cannot decode chunked body: trailer section exceeded limit of ${this.#maxTrailerBytes} bytes`,
        this.#trailerBytes + this.#lineBytes,
      );
    }
    if (nl === -1) {
      this.#line.push(Buffer.from(buf.subarray(pos)));
      return undefined;
    }
    let bytes = buf.subarray(pos, nl);
    if (this.#line.length > 0) bytes = Buffer.concat([...this.#line, bytes]);
    this.#line = [];
    this.#trailerBytes += this.#state === "trailer" ? this.#lineBytes : 0;
    this.#lineBytes = 0;
    const last = bytes.length - 1;
    return {
      text: bytes.toString("latin1", 0, bytes[last] === 0x0d ? last : bytes.length),
      next: end,
    };
  }

  #sizeLine(line: string): void {
    const m = SIZE_LINE.exec(line);
    const size = m === null ? Number.NaN : Number.parseInt(m[1] as string, 16);
    if (!Number.isSafeInteger(size)) {
      throw new HttpParseError(
        `Cannot decode chunked body: malformed chunk size ${shown(line)}`,
        line,
      );
    }
    this.#remaining = size;
    this.#state = size === 0 ? "trailer" : "data";
  }

  #trailerLine(line: string): void {
    if (line === "") {
      this.#state = "done";
      return;
    }
    if (!FIELD_LINE.test(line)) {
      throw new HttpParseError(
        `Cannot decode chunked body: malformed trailer ${shown(line)}`,
        line,
      );
    }
    const colon = line.indexOf(":");
    this.#trailers.push([line.slice(0, colon), trimOws(line.slice(colon + 1))]);
  }
}

/** The value without surrounding spaces and tabs; a loop, as a regex would backtrack. */
function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value[start] === " " || value[start] === "\t")) start++;
  while (end > start && (value[end - 1] === " " || value[end - 1] === "\t")) end--;
  return value.slice(start, end);
}

function checkLimit(name: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`Invalid ${name}: expected a number, got ${typeof value}`);
  }
  if (!(Number.isSafeInteger(value) && value > 0)) {
    throw new RangeError(`Invalid ${name}: expected a positive integer, got ${value}`);
  }
  return value;
}
