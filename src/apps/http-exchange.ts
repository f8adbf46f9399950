/**
 * One HTTP/1.0 exchange as the seeds make it (000 HEAD, 004 GET): connect
 * (TLS for `https`), send `METHOD PATH HTTP/1.0\r\nHost: HOST\r\n\r\n`, read
 * the response head. Shared by http-head and wget.
 *
 * @module
 */

import { rootCertificates } from "node:tls";
import {
  HttpBodyTruncatedError,
  IncompleteReadError,
  LimitOverrunError,
  TimeoutError,
} from "../errors.js";
import type { BodyFraming } from "../framing/http-body.js";
import { ChunkedDecoder } from "../framing/http-chunked.js";
import {
  formatRequest,
  type HttpResponseHead,
  HttpResponseHeadParser,
  type HttpUrl,
} from "../framing/http-head.js";
import { openConnection } from "../streams/open-connection.js";
import type { StreamReader } from "../streams/stream-reader.js";
import type { StreamWriter } from "../streams/stream-writer.js";
import type { Logger } from "./logger.js";

/** Options of an {@link HttpExchange}: how to connect and how long to wait. */
export interface HttpExchangeOptions {
  /** Skip certificate verification (`--insecure`). Default `false`. */
  insecure?: boolean;
  /** More trusted CA certificates (PEM), added to Node's bundled roots. Default: none. */
  ca?: string | Buffer;
  /**
   * Connect timeout (TLS handshake included) and per-read timeout, in ms: each
   * read waits at most this long for data. `0` waits forever. Default `0`.
   */
  timeout?: number;
  /** Cancels the connect and every read. */
  signal?: AbortSignal;
  /** Receives the connection's story at debug level. Default: none. */
  logger?: Logger;
}

/** Default size of one read of the body: the reader's limit, so a read never copies. */
export const READ_SIZE = 64 * 1024;

/**
 * Reads up to `n` bytes as `reader.read(n)`, waiting at most `timeout` ms
 * (`0`: no bound) for them: past it, rejects with a `TimeoutError` and
 * consumes nothing. An empty buffer means EOF.
 */
export async function readWithTimeout(
  reader: StreamReader,
  n: number,
  timeout: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  // Data or EOF already there: no wait, so no timer.
  if (timeout <= 0 || reader.bufferedSize > 0 || reader.atEof()) return reader.read(n, { signal });
  const controller = new AbortController();
  const forward = () => controller.abort(signal?.reason);
  if (signal?.aborted) forward();
  signal?.addEventListener("abort", forward, { once: true });
  const timer = setTimeout(() => {
    const seconds = timeout / 1000;
    controller.abort(new TimeoutError(`Read timed out: no data for ${seconds} s`));
  }, timeout);
  try {
    return await reader.read(n, { signal: controller.signal });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", forward);
  }
}

/** Most bytes the response heads may take together, interim (1xx) heads included. */
const MAX_HEAD_BYTES = 65536;

/** An interim response (RFC 9110 §15.2) that a final one follows: any 1xx but 101, which switches protocols. */
function isInterim(status: number): boolean {
  return status >= 100 && status < 200 && status !== 101;
}

/**
 * A connection that has sent one request and read the final response head
 * (after any interim 1xx ones). The body, if any, is read from `head.rest`
 * then `read()`; `close()` ends the connection.
 */
export class HttpExchange {
  readonly url: HttpUrl;
  /** The final response head. */
  readonly head: HttpResponseHead;
  /** The interim 1xx heads that came before `head` (`100 Continue`...), in order; often empty. */
  readonly interim: readonly HttpResponseHead[];
  /** The final head exactly as received, its final empty line included. */
  readonly headBytes: Buffer;
  readonly reader: StreamReader;
  readonly #writer: StreamWriter;
  readonly #options: HttpExchangeOptions;

  private constructor(
    url: HttpUrl,
    heads: { head: HttpResponseHead; interim: HttpResponseHead[]; headBytes: Buffer },
    reader: StreamReader,
    writer: StreamWriter,
    options: HttpExchangeOptions,
  ) {
    this.url = url;
    this.head = heads.head;
    this.interim = heads.interim;
    this.headBytes = heads.headBytes;
    this.reader = reader;
    this.#writer = writer;
    this.#options = options;
  }

  /**
   * Connects to `url`, sends `METHOD PATH HTTP/1.0\r\nHost: HOST\r\n\r\n` and
   * reads the response head. Interim responses (1xx but 101) are read and
   * kept in `interim`; the head that follows them is the response.
   *
   * Rejects with the connect error (`ECONNREFUSED`, a certificate error code
   * such as `DEPTH_ZERO_SELF_SIGNED_CERT`, `TimeoutError`...), with
   * `HttpParseError` / `LimitOverrunError` for a head that is not HTTP (or
   * heads longer than 64 KiB together), or with `IncompleteReadError` when
   * the server closes before the head ends (`partial`: what it sent of that
   * head). The connection is closed on every rejection.
   */
  static async open(
    method: string,
    url: HttpUrl,
    options: HttpExchangeOptions = {},
  ): Promise<HttpExchange> {
    const { timeout = 0, signal, logger } = options;
    logger?.debug(
      `connecting to ${url.host} port ${url.port}${url.scheme === "https" ? " (TLS)" : ""}`,
    );
    const { reader, writer } = await openConnection(url.host, url.port, {
      tls: url.scheme === "https" ? tlsOptions(options) : undefined,
      connectTimeout: timeout > 0 ? timeout : undefined,
      signal,
    });
    try {
      const request = formatRequest(method, url);
      writer.write(request);
      await writer.drain();
      logger?.debug(`sent ${method} ${url.path} HTTP/1.0`);
      const interim: HttpResponseHead[] = [];
      let budget = MAX_HEAD_BYTES;
      let parser = new HttpResponseHeadParser({ maxHeadBytes: budget });
      let chunks: Buffer[] = [];
      // What an interim head left in its last chunk: the start of the next head.
      let pending: Buffer | undefined;
      for (;;) {
        const chunk = pending ?? (await readWithTimeout(reader, READ_SIZE, timeout, signal));
        pending = undefined;
        if (chunk.length === 0) throw new IncompleteReadError(Buffer.concat(chunks), null);
        chunks.push(chunk);
        const head = parser.feed(chunk);
        if (head === undefined) continue;
        const all = chunks.length === 1 ? chunk : Buffer.concat(chunks);
        const headBytes = all.subarray(0, all.length - head.rest.length);
        logger?.debug(`received ${head.rawLines[0]}`);
        if (!isInterim(head.status)) {
          return new HttpExchange(url, { head, interim, headBytes }, reader, writer, options);
        }
        interim.push(head);
        budget -= headBytes.length;
        if (budget <= 0) {
          throw new LimitOverrunError(
            `Cannot parse response head: exceeded limit of ${MAX_HEAD_BYTES} bytes`,
            MAX_HEAD_BYTES - budget,
          );
        }
        parser = new HttpResponseHeadParser({ maxHeadBytes: budget });
        chunks = [];
        if (head.rest.length > 0) pending = head.rest;
      }
    } catch (error) {
      writer.transport.abort();
      throw error;
    }
  }

  /** The value of the last header named `name` (any case), or `undefined`. */
  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    return this.head.headers.findLast(([n]) => n.toLowerCase() === lower)?.[1];
  }

  /** Reads up to `n` body bytes after `rest`, with the exchange's timeout; empty at EOF. */
  read(n: number = READ_SIZE): Promise<Buffer> {
    return readWithTimeout(this.reader, n, this.#options.timeout ?? 0, this.#options.signal);
  }

  /**
   * The body as `framing` delimits it (see `bodyFraming`), in pieces of at
   * most {@link READ_SIZE} bytes, starting with `head.rest`; each read waits
   * at most the exchange's timeout. Bytes after the body are left unread.
   *
   * @throws {HttpBodyTruncatedError} when the server closes before the end of
   *   a `length` or `chunked` body.
   * @throws {HttpParseError | LimitOverrunError} for a malformed chunked body.
   * @throws the read errors (`TimeoutError`, `ConnectionResetError`...).
   */
  async *body(framing: BodyFraming): AsyncGenerator<Buffer, void, undefined> {
    let chunk = this.head.rest;
    if (framing.kind === "none") return;
    if (framing.kind === "close") {
      for (;;) {
        if (chunk.length > 0) yield chunk;
        chunk = await this.read();
        if (chunk.length === 0) return;
      }
    }
    if (framing.kind === "chunked") {
      const decoder = new ChunkedDecoder();
      for (;;) {
        for (const piece of decoder.feed(chunk)) if (piece.length > 0) yield piece;
        if (decoder.done) return;
        chunk = await this.read();
        if (chunk.length === 0) decoder.end();
      }
    }
    let left = framing.length;
    for (;;) {
      if (chunk.length > left) chunk = chunk.subarray(0, left);
      if (chunk.length > 0) {
        left -= chunk.length;
        yield chunk;
      }
      if (left === 0) return;
      chunk = await this.read(Math.min(READ_SIZE, left));
      if (chunk.length === 0)
        throw new HttpBodyTruncatedError(framing.length - left, framing.length);
    }
  }

  /**
   * Ends the connection at once (what is left unread is dropped) and waits
   * until it is closed. No linger for the server's EOF, as a server's close
   * does: a client that has its response has nothing more to wait for (GNU
   * wget just `close()`s), and a server that keeps the connection open must
   * not hold it up.
   */
  async close(): Promise<void> {
    this.#options.logger?.debug("closing");
    this.#writer.transport.abort();
    await this.#writer.waitClosed();
  }
}

/** Node TLS options for `--insecure` and `--ca-certificate`: extra CAs add to the roots, as GNU wget. */
function tlsOptions(
  options: HttpExchangeOptions,
): true | { ca?: string[]; rejectUnauthorized?: boolean } {
  if (options.insecure !== true && options.ca === undefined) return true;
  return {
    ...(options.ca === undefined ? {} : { ca: [...rootCertificates, options.ca.toString()] }),
    ...(options.insecure === true ? { rejectUnauthorized: false } : {}),
  };
}
