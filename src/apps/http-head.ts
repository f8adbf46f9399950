/**
 * The HTTP header printer of seed 000: sends `HEAD PATH HTTP/1.0` and prints
 * `HTTP header> ` + each non-empty line of the response head, trailing
 * whitespace stripped as Python's `str.rstrip()`.
 *
 * @module
 */

import { once } from "node:events";
import { parseHttpUrl } from "../framing/http-head.js";
import { rstrip } from "../framing/py-strip.js";
import { describeError, type ErrorStage, ExitStatus, exitStatusOf } from "./http-errors.js";
import { HttpExchange, type HttpExchangeOptions } from "./http-exchange.js";
import type { Logger } from "./logger.js";

/** Options of {@link httpHead}. */
export interface HttpHeadOptions extends Omit<HttpExchangeOptions, "logger"> {
  /** An `http:` or `https:` URL: port, IPv6 literal (`http://[::1]:8080/`) and query allowed. */
  url: string;
  /** Where the `HTTP header> ` lines go. */
  stdout: NodeJS.WritableStream;
  /** Where the error message goes, one line starting `http-head: `. */
  stderr: NodeJS.WritableStream;
  /** Parent logger; the connection logs at debug level as `http_head_HOST_PORT`. Default: none. */
  logger?: Logger;
}

/** The seed's output for a response head: one `HTTP header> ` line per non-empty line. */
export function formatHeaderLines(rawLines: readonly string[]): string {
  let out = "";
  for (const raw of rawLines) {
    const line = rstrip(raw);
    if (line !== "") out += `HTTP header> ${line}\n`;
  }
  return out;
}

/**
 * Sends `HEAD` to `options.url` and prints the response head, after the
 * lines of any interim (1xx but 101) heads before it, as the seed prints
 * every line it reads. Any status is a success (the program prints headers,
 * it does not judge them); bytes after the head are ignored, as a HEAD
 * response has no body, and the connection is closed at once.
 *
 * Resolves with GNU wget's exit code: 0 printed, 4 network failure (refused,
 * reset, timeout), 5 certificate verification failed, 7 not an HTTP response
 * (or none), 130 interrupted, 1 otherwise; the error is written to `stderr`.
 *
 * @throws {TypeError} for a URL that is not `http:` or `https:` (before any I/O).
 */
export async function httpHead(options: HttpHeadOptions): Promise<number> {
  const url = parseHttpUrl(options.url);
  const logger = options.logger?.child(`http_head_${url.host}_${url.port}`);
  let stage: ErrorStage = "network";
  try {
    const exchange = await HttpExchange.open("HEAD", url, { ...options, logger });
    await exchange.close();
    stage = "output";
    // The seed prints every line it reads, so interim heads (100 Continue...) too.
    const lines = [...exchange.interim.flatMap((head) => head.rawLines), ...exchange.head.rawLines];
    if (!options.stdout.write(formatHeaderLines(lines))) {
      await once(options.stdout, "drain");
    }
    return 0;
  } catch (error) {
    options.stderr.write(`http-head: Cannot get ${options.url}: ${describeError(error)}\n`);
    if (options.signal?.aborted === true) return ExitStatus.interrupted;
    return exitStatusOf(error, stage);
  }
}
