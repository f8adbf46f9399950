/**
 * Every error class asyncnet throws. Each has a stable `code` (`ERR_...`) that
 * callers can switch on, and accepts `{ cause }`.
 *
 * @module
 */

/** Options accepted by every asyncnet error constructor. */
export interface AsyncNetErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * A read ended at EOF before the requested amount or separator arrived.
 *
 * `partial` holds the bytes that were read before EOF (they are consumed from
 * the reader); `expected` is the number of bytes asked for, or `null` when the
 * read was waiting for a separator.
 */
export class IncompleteReadError extends Error {
  override readonly name = "IncompleteReadError";
  readonly code = "ERR_INCOMPLETE_READ";
  readonly partial: Buffer;
  readonly expected: number | null;

  constructor(partial: Buffer, expected: number | null, options?: AsyncNetErrorOptions) {
    const want = expected === null ? "a separator" : `${expected} bytes`;
    super(`Cannot complete read: EOF after ${partial.length} bytes, expected ${want}`, options);
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * A read looked further than the reader's `limit` without finding its separator.
 *
 * `consumed` is the number of bytes that were examined. What stays buffered is
 * documented on each read method: `readUntil` keeps every byte, `readLine`
 * discards the over-long line.
 */
export class LimitOverrunError extends RangeError {
  override readonly name = "LimitOverrunError";
  readonly code = "ERR_LIMIT_OVERRUN";
  readonly consumed: number;

  constructor(message: string, consumed: number, options?: AsyncNetErrorOptions) {
    super(message, options);
    this.consumed = consumed;
  }
}

/**
 * The connection was closed or reset while an operation still needed it: a
 * `drain()` whose data can never be flushed, a write after close, a read after
 * the peer reset the connection.
 */
export class ConnectionClosedError extends Error {
  override readonly name = "ConnectionClosedError";
  readonly code = "ERR_CONNECTION_CLOSED";

  constructor(message = "Connection lost", options?: AsyncNetErrorOptions) {
    super(message, options);
  }
}

/**
 * The peer reset the connection (`ECONNRESET`, `EPIPE`, `ECONNABORTED`).
 * The system error is the `cause`.
 */
export class ConnectionResetError extends Error {
  override readonly name = "ConnectionResetError";
  readonly code = "ERR_CONNECTION_RESET";

  constructor(message = "Connection reset by peer", options?: AsyncNetErrorOptions) {
    super(message, options);
  }
}

/** A second read was started on a StreamReader while one was still waiting. */
export class ConcurrentReadError extends Error {
  override readonly name = "ConcurrentReadError";
  readonly code = "ERR_CONCURRENT_READ";

  constructor(method: string, options?: AsyncNetErrorOptions) {
    super(`Cannot ${method}: another read is already waiting for data`, options);
  }
}

/**
 * A method was called in a state where it cannot run: `feedData` after
 * `feedEof`, `listen` on a closed server, `writeEof` on a transport that cannot
 * half-close, a second transport for one reader. A bug in the caller, not
 * something the peer did; the message says which call and why.
 */
export class InvalidStateError extends Error {
  override readonly name = "InvalidStateError";
  readonly code = "ERR_INVALID_STATE";

  constructor(message: string, options?: AsyncNetErrorOptions) {
    super(message, options);
  }
}

/** An operation did not finish within its configured time. */
export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
  readonly code = "ERR_TIMEOUT";

  constructor(message: string, options?: AsyncNetErrorOptions) {
    super(message, options);
  }
}

/** The operation was cancelled through an AbortSignal. */
export class AbortError extends Error {
  override readonly name = "AbortError";
  readonly code = "ABORT_ERR";

  constructor(message = "The operation was aborted", options?: AsyncNetErrorOptions) {
    super(message, options);
  }
}

/** Returns the signal's reason as an Error, wrapping non-Error reasons in an AbortError. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new AbortError(undefined, { cause: reason });
}

/** A server answered with a status that is not a success: 4xx, 5xx, or a 1xx/3xx not followed. */
export class HttpStatusError extends Error {
  override readonly name = "HttpStatusError";
  readonly code = "ERR_HTTP_STATUS";
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, options?: AsyncNetErrorOptions) {
    super(`Server answered ${status}${reason === "" ? "" : ` ${reason}`}`, options);
    this.status = status;
    this.reason = reason;
  }
}

/** A redirect could not be followed: too many, no `Location`, or a `Location` that is not http(s). */
export class HttpRedirectError extends Error {
  override readonly name = "HttpRedirectError";
  readonly code = "ERR_HTTP_REDIRECT";
}

/**
 * The server closed the connection before the end of the body: before the
 * `Content-Length` it announced (`expected`), or before the last chunk of a
 * chunked body (`expected` is `undefined`). `received` bytes of the body arrived.
 */
export class HttpBodyTruncatedError extends Error {
  override readonly name = "HttpBodyTruncatedError";
  readonly code = "ERR_HTTP_BODY_TRUNCATED";
  readonly received: number;
  readonly expected: number | undefined;

  constructor(received: number, expected: number | undefined, options?: AsyncNetErrorOptions) {
    super(
      expected === undefined
        ? `Connection closed at byte ${received}, before the last chunk`
        : `Connection closed at byte ${received} of ${expected}`,
      options,
    );
    this.received = received;
    this.expected = expected;
  }
}

const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

/** Wraps a socket's reset-like system error in a ConnectionResetError; returns others as they are. */
export function normalizeSocketError(error: Error): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && RESET_CODES.has(code)) {
    return new ConnectionResetError(`Connection reset by peer: ${code}`, { cause: error });
  }
  return error;
}

/**
 * A peer sent an HTTP/1.x response head that does not parse: a malformed status
 * line or header field. `line` is the offending line, decoded as latin1, without
 * its line end.
 */
export class HttpParseError extends SyntaxError {
  override readonly name = "HttpParseError";
  readonly code = "ERR_HTTP_PARSE";
  readonly line: string;

  constructor(message: string, line: string, options?: AsyncNetErrorOptions) {
    super(message, options);
    this.line = line;
  }
}

/**
 * A connection's PROXY protocol header (v1 or v2) is malformed, unsupported,
 * longer than the configured cap, fails its CRC32C, or the connection ended
 * before it was complete. The header is required when the PROXY protocol is
 * enabled, so the connection must be closed: nothing after a bad header can be
 * trusted to be application data.
 */
export class ProxyHeaderError extends SyntaxError {
  override readonly name = "ProxyHeaderError";
  readonly code = "ERR_PROXY_HEADER";

  constructor(message: string, options?: AsyncNetErrorOptions) {
    super(message, options);
  }
}

/**
 * Why a server with the PROXY protocol enabled closed a connection before
 * serving it: `"untrusted"` (the connection did not come from a trusted
 * proxy), `"malformed"` (its header is invalid; the parser's
 * {@link ProxyHeaderError} is the `cause`), `"incomplete"` (the connection
 * ended within its header) or `"timeout"` (no complete header in time).
 */
export type ProxyRefusalReason = "untrusted" | "malformed" | "incomplete" | "timeout";

/**
 * A server with the PROXY protocol enabled refused a connection: see
 * {@link ProxyRefusalReason}. Only that connection is closed.
 */
export class ProxyRefusedError extends Error {
  override readonly name = "ProxyRefusedError";
  readonly code = "ERR_PROXY_REFUSED";
  /** Why the connection was refused. */
  readonly reason: ProxyRefusalReason;

  constructor(message: string, reason: ProxyRefusalReason, options?: AsyncNetErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}
