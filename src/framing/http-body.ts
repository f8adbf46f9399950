/**
 * How long the body of an HTTP/1.x response is (RFC 9112 §6.3), from its
 * status, its header fields and the request method. No sockets.
 *
 * @module
 */

import { HttpParseError } from "../errors.js";
import { asciiRepr } from "./ascii-repr.js";
import type { HttpResponseHead } from "./http-head.js";

/**
 * Where a response body ends:
 * - `none`: there is no body (a `HEAD` response, 1xx, 204, 304);
 * - `length`: after `length` bytes (`Content-Length`);
 * - `chunked`: at the last chunk of the chunked coding (see `ChunkedDecoder`);
 * - `close`: when the server closes the connection.
 */
export type BodyFraming =
  { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };

function fieldValues(head: Pick<HttpResponseHead, "headers">, name: string): string[] | undefined {
  const values = head.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  return values.length === 0 ? undefined : values;
}

/** The list elements of every field value: `a, b` and `c` give `a`, `b`, `c`; empty ones dropped. */
function listElements(values: readonly string[]): string[] {
  return values
    .flatMap((value) => value.split(","))
    .map((element) => element.trim())
    .filter((element) => element !== "");
}

/**
 * The framing of the body of a response to `method`, in RFC 9112 §6.3's order:
 * no body for `HEAD`, 1xx, 204 and 304; then `Transfer-Encoding`, which
 * overrides `Content-Length`: `chunked` when it is the final coding, else the
 * body runs to the close; then `Content-Length`; else to the close.
 *
 * `Content-Length` may be repeated, as separate fields or as a list
 * (`5, 5`), when every value is the same.
 *
 * @throws {HttpParseError} (`ERR_HTTP_PARSE`) when `Content-Length` values
 *   differ (`5` and `11`), or one is not a decimal number up to 2^53 - 1: RFC
 *   9112 makes both an unrecoverable framing error. `line` holds the values.
 */
export function bodyFraming(
  head: Pick<HttpResponseHead, "status" | "headers">,
  method: string,
): BodyFraming {
  const { status } = head;
  if (method.toUpperCase() === "HEAD" || (status >= 100 && status < 200)) return { kind: "none" };
  if (status === 204 || status === 304) return { kind: "none" };
  const transferEncoding = fieldValues(head, "transfer-encoding");
  if (transferEncoding !== undefined) {
    const codings = listElements(transferEncoding);
    return codings.at(-1)?.toLowerCase() === "chunked" ? { kind: "chunked" } : { kind: "close" };
  }
  const contentLength = fieldValues(head, "content-length");
  if (contentLength === undefined) return { kind: "close" };
  const line = contentLength.join(", ");
  const elements = listElements(contentLength);
  if (elements.length === 0) {
    throw new HttpParseError(`Cannot frame response body: empty Content-Length`, line);
  }
  let length: number | undefined;
  for (const element of elements) {
    const value = /^[0-9]{1,16}$/.test(element) ? Number(element) : Number.NaN;
    if (!Number.isSafeInteger(value)) {
      throw new HttpParseError(
        `Cannot frame response body: invalid Content-Length ${asciiRepr(element.slice(0, 40))}`,
        line,
      );
    }
    if (length !== undefined && value !== length) {
      throw new HttpParseError(
        `Cannot frame response body: conflicting Content-Length values ${length} and ${value}`,
        line,
      );
    }
    length = value;
  }
  return { kind: "length", length: length as number };
}
