/**
 * The tiny wget of seed 004 (`GET PATH HTTP/1.0`, read until the server
 * closes) with GNU wget's conventions: a file named after the URL that never
 * overwrites another, `-O`, `-q`, `-S`, `--save-headers`, redirects, a
 * progress report, and GNU wget's exit codes.
 *
 * @module
 */

import { resolve } from "node:path";
import { parseHttpUrl } from "../framing/http-head.js";
import { HttpRedirectError, HttpStatusError } from "../errors.js";
import { bodyFraming } from "../framing/http-body.js";
import { describeError, type ErrorStage, ExitStatus, exitStatusOf } from "./http-errors.js";
import { HttpExchange, type HttpExchangeOptions } from "./http-exchange.js";
import { createFile, createUniqueFile, fileNameFromUrl, OutputSink } from "./http-output.js";
import { DownloadProgress } from "./http-progress.js";
import type { Logger } from "./logger.js";

/** Options of {@link wget}. */
export interface WgetOptions extends Omit<HttpExchangeOptions, "logger"> {
  /** An `http:` or `https:` URL: port, IPv6 literal (`http://[::1]:8080/`) and query allowed. */
  url: string;
  /**
   * `-O`: the file to write (created or truncated), `"-"` for `stdout`.
   * Default: a name from the URL (see `fileNameFromUrl`) in `directory`,
   * `NAME.1`, `NAME.2`... when it exists.
   */
  output?: string;
  /** Where the default file is created and a relative `output` resolved. Default `process.cwd()`. */
  directory?: string;
  /** `-q`: write nothing to stderr (but `-S` headers). Default `false`. */
  quiet?: boolean;
  /** `-S`: write each response's status line and headers to stderr, indented two spaces. Default `false`. */
  serverResponse?: boolean;
  /** `--save-headers`: write the response head, as received, before the body. Default `false`. */
  saveHeaders?: boolean;
  /** Most redirects followed; one more is an error (exit 8). Default 20, as GNU wget. */
  maxRedirects?: number;
  /** Receives the body with `-O -`. */
  stdout: NodeJS.WritableStream;
  /** Receives the report, `-S` headers and the error message. */
  stderr: NodeJS.WritableStream;
  /** Draw a progress bar on stderr (it is a terminal). Default `false`: one summary line. */
  stderrIsTTY?: boolean;
  /** Parent logger; each connection logs at debug level as `wget_HOST_PORT`. Default: none. */
  logger?: Logger;
}

/** The statuses followed, as GNU wget. */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Downloads `options.url`, following redirects, to a file or stdout.
 *
 * The body is streamed with backpressure: at most a few reads' worth of it
 * is in memory. Its end follows RFC 9112 §6.3: a chunked body
 * (`Transfer-Encoding: chunked`, which overrides `Content-Length`) is decoded
 * and ends at its last chunk; else it ends after `Content-Length` bytes (fewer
 * is an error, and the partial file is kept, as GNU wget); else when the
 * server closes the connection. Interim 1xx responses before the final one
 * are skipped (and shown by `serverResponse`). No file is created unless the
 * final response is a 2xx with a body: a 204 saves nothing and succeeds. Once
 * the body is complete the connection is closed at once, whether the server
 * closes it or not.
 *
 * Resolves with GNU wget's exit code: 0 saved (or 204); 3 file I/O error
 * (any error creating or writing the output: `ENAMETOOLONG`, `EACCES`,
 * `ENOSPC`, `EPIPE`...); 4 network failure (refused, reset, timeout,
 * truncated body); 5 certificate verification failed; 7 protocol error: not
 * an HTTP response (or none), a malformed chunked body, `Content-Length`
 * values that differ or are not numbers; 8 error status (anything but 2xx
 * after redirects) or redirect failure (too many, no `Location`); 130
 * interrupted through `signal`; 1 otherwise. The message is written to stderr
 * as `wget: Cannot download URL: DETAIL` unless `quiet`.
 *
 * @throws {TypeError} for a URL that is not `http:` or `https:`, and
 *   {@link RangeError} for a negative `maxRedirects` (before any I/O).
 */
export async function wget(options: WgetOptions): Promise<number> {
  let url = parseHttpUrl(options.url);
  const maxRedirects = options.maxRedirects ?? 20;
  if (!Number.isSafeInteger(maxRedirects) || maxRedirects < 0) {
    throw new RangeError(`Invalid maxRedirects: expected an integer >= 0, got ${maxRedirects}`);
  }
  const state: { stage: ErrorStage } = { stage: "network" };
  let href = new URL(options.url).href;
  try {
    for (let redirects = 0; ; redirects++) {
      const logger = options.logger?.child(`wget_${url.host}_${url.port}`);
      const exchange = await HttpExchange.open("GET", url, { ...options, logger });
      try {
        const { head } = exchange;
        if (options.serverResponse === true) {
          const lines = [...exchange.interim.flatMap((h) => h.rawLines), ...head.rawLines];
          options.stderr.write(lines.map((line) => `  ${line}\n`).join(""));
        }
        if (REDIRECT_STATUSES.has(head.status)) {
          const next = redirectTarget(exchange, href, redirects, maxRedirects);
          if (options.quiet !== true) {
            options.stderr.write(`Location: ${exchange.header("location")} [following]\n`);
          }
          url = parseHttpUrl(next);
          href = next;
          continue;
        }
        if (head.status < 200 || head.status > 299) {
          throw new HttpStatusError(head.status, head.reason);
        }
        await saveBody(exchange, fileNameFromUrl(options.url), options, state);
        return ExitStatus.ok;
      } finally {
        await exchange.close();
      }
    }
  } catch (error) {
    if (options.quiet !== true) {
      options.stderr.write(`wget: Cannot download ${href}: ${describeError(error)}\n`);
    }
    if (options.signal?.aborted === true) return ExitStatus.interrupted;
    return exitStatusOf(error, state.stage);
  }
}

/** The absolute URL a redirect points to. */
function redirectTarget(
  exchange: HttpExchange,
  href: string,
  redirects: number,
  maxRedirects: number,
): string {
  const { status, reason } = exchange.head;
  const location = exchange.header("location");
  if (location === undefined || location === "") {
    throw new HttpRedirectError(`Server answered ${status} ${reason} without a Location`);
  }
  if (redirects >= maxRedirects) {
    throw new HttpRedirectError(`${maxRedirects} redirections exceeded`);
  }
  let next: URL;
  try {
    next = new URL(location, href);
  } catch (error) {
    throw new HttpRedirectError(`Invalid redirect Location: ${location}`, { cause: error });
  }
  if (next.protocol !== "http:" && next.protocol !== "https:") {
    throw new HttpRedirectError(`Unsupported redirect to a ${next.protocol} URL: ${location}`);
  }
  return next.href;
}

async function openOutput(
  options: WgetOptions,
  defaultName: string,
): Promise<{ sink: OutputSink; destination: { file: string } | "stdout" }> {
  const directory = options.directory ?? process.cwd();
  if (options.output === "-")
    return { sink: new OutputSink(options.stdout, false), destination: "stdout" };
  if (options.output !== undefined) {
    const stream = await createFile(resolve(directory, options.output));
    return { sink: new OutputSink(stream, true), destination: { file: options.output } };
  }
  const { name, stream } = await createUniqueFile(directory, defaultName);
  return { sink: new OutputSink(stream, true), destination: { file: name } };
}

async function saveBody(
  exchange: HttpExchange,
  defaultName: string,
  options: WgetOptions,
  state: { stage: ErrorStage },
): Promise<void> {
  // Before any file exists: a response whose framing is broken is discarded whole (RFC 9112 §6.3).
  const framing = bodyFraming(exchange.head, "GET");
  if (framing.kind === "none") {
    // GNU wget creates no file for a 204 (its Test-204): there is nothing to save.
    if (options.quiet !== true) {
      options.stderr.write(
        `Server answered ${exchange.head.status} ${exchange.head.reason}: nothing saved\n`,
      );
    }
    return;
  }
  const expected = framing.kind === "length" ? framing.length : undefined;
  state.stage = "output";
  const { sink, destination } = await openOutput(options, defaultName);
  const label = destination === "stdout" ? "-" : destination.file;
  const progress =
    options.quiet === true
      ? undefined
      : new DownloadProgress(label, expected, {
          stderr: options.stderr,
          tty: options.stderrIsTTY,
          columns: (options.stderr as { columns?: number }).columns,
        });
  let received = 0;
  try {
    if (options.saveHeaders === true) await sink.write(exchange.headBytes);
    const body = exchange.body(framing);
    for (;;) {
      state.stage = "network";
      const next = await body.next();
      if (next.done === true) break;
      state.stage = "output";
      await sink.write(next.value);
      received += next.value.length;
      progress?.update(received);
    }
    state.stage = "output";
    await sink.close();
  } catch (error) {
    await sink.abort();
    throw error;
  }
  progress?.finish(received, destination);
}
