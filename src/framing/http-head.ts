/**
 * The HTTP/1.x pieces of the header printer and wget (seeds 000, 004): the
 * request line they send and an incremental parser of the response head they
 * read. No sockets.
 *
 * @module
 */

import { HttpParseError, LimitOverrunError } from "../errors.js";
import { asciiRepr } from "./ascii-repr.js";

/** A parsed HTTP/1.x response head. */
export interface HttpResponseHead {
  /** The protocol version from the status line: `"1.0"` or `"1.1"` (any `1.N`). */
  version: string;
  /** The three-digit status code; not checked against 100–599. */
  status: number;
  /** The reason phrase as received (latin1); `""` when absent. */
  reason: string;
  /**
   * Header fields in order received, names with their case as received, values
   * without surrounding spaces and tabs, repeated fields kept apart. An
   * obsolete folded line (starting with space or tab) is joined to the value
   * before it with one space.
   */
  headers: [name: string, value: string][];
  /**
   * Every line of the head as received, decoded as latin1, without its `\r\n`
   * or `\n` and without the empty line that ends the head: the status line
   * first, folded continuation lines on their own.
   */
  rawLines: string[];
  /** The bytes after the empty line: the start of the body (often empty). */
  rest: Buffer;
}

/** Options of an {@link HttpResponseHeadParser}. */
export interface HttpResponseHeadParserOptions {
  /**
   * Most bytes the head may take, its final empty line included. One more
   * throws a `LimitOverrunError`. Positive integer; default 65536 (64 KiB).
   */
  maxHeadBytes?: number;
}

const STATUS_LINE = /^HTTP\/(1\.[0-9]) ([0-9]{3})(?: (.*))?$/s;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):(.*)$/s;

/** Whether the line holds a control character other than tab (a bare CR, NUL, DEL, ...). */
function hasControl(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/** The value without surrounding spaces and tabs; a loop, as a regex would backtrack. */
function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value[start] === " " || value[start] === "\t")) start++;
  while (end > start && (value[end - 1] === " " || value[end - 1] === "\t")) end--;
  return value.slice(start, end);
}

function shown(line: string): string {
  return asciiRepr(line.length > 100 ? `${line.slice(0, 100)}...` : line);
}

/**
 * An incremental parser of one HTTP/1.x response head, fed with the bytes as
 * they arrive, in pieces of any size (one byte, a split `\r\n`, empty chunks).
 *
 * Lines end with `\r\n` or a bare `\n`; the head ends at the first empty line
 * (`\r\n\r\n`, `\n\n` or a mix). The status line is checked as soon as it is
 * complete and each header line as soon as it is, so a peer that does not
 * speak HTTP fails on its first line, not at the limit.
 *
 * Errors (the parser is then spent; every later `feed` throws the same error):
 * - `HttpParseError` (`ERR_HTTP_PARSE`): a status line that is not
 *   `HTTP/1.N SP 3DIGIT [SP reason]` (an empty first line included), a header
 *   line that is not `token ":" value`, whitespace before the colon, control
 *   characters (other than tab) in a line, or a folded line right after the
 *   status line. `line` holds the line.
 * - `LimitOverrunError` (`ERR_LIMIT_OVERRUN`): the head is longer than
 *   `maxHeadBytes`; `consumed` is the number of head bytes taken.
 */
export class HttpResponseHeadParser {
  readonly #maxHeadBytes: number;
  #partial: Buffer[] = [];
  #consumed = 0;
  #status: Omit<HttpResponseHead, "headers" | "rawLines" | "rest"> | undefined;
  #headers: [string, string][] = [];
  #rawLines: string[] = [];
  #head: HttpResponseHead | undefined;
  #error: Error | undefined;

  /**
   * @throws {TypeError} when `maxHeadBytes` is not a number.
   * @throws {RangeError} when `maxHeadBytes` is not a positive integer.
   */
  constructor(options: HttpResponseHeadParserOptions = {}) {
    const max = options.maxHeadBytes ?? 65536;
    if (typeof max !== "number") {
      throw new TypeError(`Invalid maxHeadBytes: expected a number, got ${typeof max}`);
    }
    if (!(Number.isSafeInteger(max) && max > 0)) {
      throw new RangeError(`Invalid maxHeadBytes: expected a positive integer, got ${max}`);
    }
    this.#maxHeadBytes = max;
  }

  /** The parsed head once complete, `undefined` before. */
  get head(): HttpResponseHead | undefined {
    return this.#head;
  }

  /**
   * Takes the next bytes. Returns the head on the call that completes it (its
   * `rest` holds this chunk's bytes after the head) and `undefined` while more
   * bytes are needed. The parser copies what it keeps, so the caller may reuse
   * `chunk`; `rest` is a view of `chunk`.
   *
   * @throws {HttpParseError | LimitOverrunError} see the class.
   * @throws {Error} when called again after the head was complete.
   */
  feed(chunk: Uint8Array): HttpResponseHead | undefined {
    if (this.#error !== undefined) throw this.#error;
    if (this.#head !== undefined) {
      throw new Error("Cannot feed: the response head is already complete");
    }
    try {
      return this.#feed(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (error) {
      this.#error = error as Error;
      throw error;
    }
  }

  #feed(buf: Buffer): HttpResponseHead | undefined {
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, pos);
      const end = nl === -1 ? buf.length : nl + 1;
      this.#consumed += end - pos;
      if (this.#consumed > this.#maxHeadBytes) {
        throw new LimitOverrunError(
          `Cannot parse response head: exceeded limit of ${this.#maxHeadBytes} bytes`,
          this.#consumed,
        );
      }
      if (nl === -1) {
        if (end > pos) this.#partial.push(Buffer.from(buf.subarray(pos)));
        return undefined;
      }
      let bytes = buf.subarray(pos, nl);
      if (this.#partial.length > 0) {
        bytes = Buffer.concat([...this.#partial, bytes]);
        this.#partial = [];
      }
      pos = end;
      const last = bytes.length - 1;
      const line = bytes.toString("latin1", 0, bytes[last] === 0x0d ? last : bytes.length);
      if (line === "" && this.#status !== undefined) {
        this.#head = {
          ...this.#status,
          headers: this.#headers,
          rawLines: this.#rawLines,
          rest: buf.subarray(pos),
        };
        return this.#head;
      }
      this.#takeLine(line);
    }
  }

  #takeLine(line: string): void {
    if (this.#status === undefined) {
      const m = STATUS_LINE.exec(line);
      if (m === null || hasControl(line))
        throw new HttpParseError(`Malformed HTTP status line: ${shown(line)}`, line);
      this.#status = { version: m[1] as string, status: Number(m[2]), reason: m[3] ?? "" };
    } else if (line.startsWith(" ") || line.startsWith("\t")) {
      const previous = this.#headers.at(-1);
      if (previous === undefined || hasControl(line)) {
        throw new HttpParseError(`Malformed HTTP header line: ${shown(line)}`, line);
      }
      const more = trimOws(line);
      if (more !== "") previous[1] = previous[1] === "" ? more : `${previous[1]} ${more}`;
    } else {
      const m = HEADER_LINE.exec(line);
      if (m === null || hasControl(line)) {
        throw new HttpParseError(`Malformed HTTP header line: ${shown(line)}`, line);
      }
      this.#headers.push([m[1] as string, trimOws(m[2] as string)]);
    }
    this.#rawLines.push(line);
  }
}

/** The parts of an `http:` or `https:` URL that a request needs. */
export interface HttpUrl {
  /** `http` or `https`; `https` means the caller must speak TLS. */
  scheme: "http" | "https";
  /** Host name or address to connect to: lower case, IDNs in punycode, no brackets (`::1`). */
  host: string;
  /** The explicit port, or 80 for `http`, 443 for `https`. */
  port: number;
  /** Path and query, percent-encoded, never empty (`/`); the fragment dropped. */
  path: string;
  /** The `Host` header: host with brackets for IPv6, and `:port` unless the default. */
  hostHeader: string;
}

/**
 * Splits an `http:` or `https:` URL with the WHATWG `URL` parser, so IPv6
 * literals (`http://[::1]:8080/`), explicit ports, queries and IDNs work.
 *
 * Differences from the seed (`urllib.parse.urlsplit`): the query is kept in
 * `path` (the seed dropped it), and `hostHeader` carries the port when it is
 * not the default (the seed sent the bare host name, which is only right on
 * ports 80 and 443). User name and password are ignored, never sent.
 *
 * @throws {TypeError} for a string `URL` rejects (`ERR_INVALID_URL`) and for a
 *   scheme other than `http` or `https` (`localhost:8080` has scheme `localhost`).
 */
export function parseHttpUrl(url: string): HttpUrl {
  const u = new URL(url);
  const scheme = u.protocol === "http:" ? "http" : u.protocol === "https:" ? "https" : undefined;
  if (scheme === undefined) {
    throw new TypeError(
      `Unsupported URL scheme: expected http or https, got ${asciiRepr(u.protocol.slice(0, -1))}`,
    );
  }
  const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === "" ? (scheme === "https" ? 443 : 80) : Number(u.port);
  return { scheme, host, port, path: `${u.pathname || "/"}${u.search}`, hostHeader: u.host };
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The request the seeds send, byte for byte:
 * `METHOD PATH HTTP/1.0\r\nHost: HOST\r\n\r\n`, with PATH and HOST from
 * {@link parseHttpUrl} (`Host: [::1]:8080` for `http://[::1]:8080/`,
 * `Host: example.com` for `https://example.com:443/`).
 *
 * @param method An HTTP token such as `HEAD` or `GET`, sent as given (no case change).
 * @param url A URL string or an already parsed {@link HttpUrl}.
 * @throws {TypeError} for a method that is not a token, or a URL that
 *   {@link parseHttpUrl} rejects.
 */
export function formatRequest(method: string, url: string | HttpUrl): Buffer {
  if (typeof method !== "string" || !TOKEN.test(method)) {
    throw new TypeError(`Invalid HTTP method: ${asciiRepr(String(method))}`);
  }
  const { path, hostHeader } = typeof url === "string" ? parseHttpUrl(url) : url;
  return Buffer.from(`${method} ${path} HTTP/1.0\r\nHost: ${hostHeader}\r\n\r\n`, "latin1");
}
