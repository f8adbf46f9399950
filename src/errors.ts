/**
 * Every error class asyncnet throws. Each has a stable `code` (`ERR_...`) that
 * callers can switch on, and accepts `{ cause }`.
 *
 * @module
 */

import type { SocketAddress } from "./protocols/connection-info.js";

/** Options accepted by every asyncnet error constructor. */
export interface AsyncNetErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /**
   * The remote end of the connection the error is about, as
   * `ConnectionInfo.peername` gives it. Kept by the errors that mean a lost
   * peer (see {@link isConnectionLost}) in their `peer` field; ignored by the others.
   */
  peer?: SocketAddress | string | undefined;
}

/** The `peer` field of the errors that mean a lost peer: see {@link isConnectionLost}. */
export type ErrorPeer = SocketAddress | string | undefined;

/**
 * A read ended at EOF before the requested amount or separator arrived.
 *
 * `partial` holds the bytes that were read before EOF (they are consumed from
 * the reader); `expected` is the number of bytes asked for, or `null` when the
 * read was waiting for a separator.
 */
export class IncompleteReadError extends Error {
  /** Always `"IncompleteReadError"`. */
  override readonly name = "IncompleteReadError";
  /** Always `"ERR_INCOMPLETE_READ"`: stable across versions, for `switch (error.code)`. */
  readonly code = "ERR_INCOMPLETE_READ";
  /** The bytes read before EOF, consumed from the reader; empty when there were none. */
  readonly partial: Buffer;
  /** The number of bytes asked for, or `null` when the read waited for a separator. */
  readonly expected: number | null;
  /** The peer that ended the stream early, when known; see {@link isConnectionLost}. */
  readonly peer: ErrorPeer;

  constructor(partial: Buffer, expected: number | null, options?: AsyncNetErrorOptions) {
    const want = expected === null ? "a separator" : `${expected} bytes`;
    super(`Cannot complete read: EOF after ${partial.length} bytes, expected ${want}`, options);
    this.partial = partial;
    this.expected = expected;
    this.peer = options?.peer;
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
  /** Always `"LimitOverrunError"`. */
  override readonly name = "LimitOverrunError";
  /** Always `"ERR_LIMIT_OVERRUN"`: stable across versions, for `switch (error.code)`. */
  readonly code = "ERR_LIMIT_OVERRUN";
  /** How many bytes were examined before the limit was hit. */
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
  /** Always `"ConnectionClosedError"`. */
  override readonly name = "ConnectionClosedError";
  /** Always `"ERR_CONNECTION_CLOSED"`: stable across versions, for `switch (error.code)`. */
  readonly code = "ERR_CONNECTION_CLOSED";
  /** The peer of the closed connection, when known; see {@link isConnectionLost}. */
  readonly peer: ErrorPeer;

  constructor(message = "Connection lost", options?: AsyncNetErrorOptions) {
    super(message, options);
    this.peer = options?.peer;
  }
}

/**
 * The peer reset the connection (`ECONNRESET`, `EPIPE`, `ECONNABORTED`).
 * The system error is the `cause`.
 */
export class ConnectionResetError extends Error {
  /** Always `"ConnectionResetError"`. */
  override readonly name = "ConnectionResetError";
  /** Always `"ERR_CONNECTION_RESET"`: stable across versions, for `switch (error.code)`. */
  readonly code = "ERR_CONNECTION_RESET";
  /** The peer that reset the connection, when known; see {@link isConnectionLost}. */
  readonly peer: ErrorPeer;

  constructor(message = "Connection reset by peer", options?: AsyncNetErrorOptions) {
    super(message, options);
    this.peer = options?.peer;
  }
}

/** A second read was started on a StreamReader while one was still waiting. */
export class ConcurrentReadError extends Error {
  /** Always `"ConcurrentReadError"`. */
  override readonly name = "ConcurrentReadError";
  /** Always `"ERR_CONCURRENT_READ"`: stable across versions, for `switch (error.code)`. */
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
  /** Always `"InvalidStateError"`. */
  override readonly name = "InvalidStateError";
  /** Always `"ERR_INVALID_STATE"`: stable across versions, for `switch (error.code)`. */
  readonly code = "ERR_INVALID_STATE";

  constructor(message: string, options?: AsyncNetErrorOptions) {
    super(message, options);
  }
}

/** Options of a {@link TimeoutError}. */
export interface TimeoutErrorOptions extends AsyncNetErrorOptions {
  /** Whether the timeout closed a connection (see {@link TimeoutError.closedConnection}). Default `false`. */
  closedConnection?: boolean;
}

/**
 * An operation did not finish within its configured time. `closedConnection`
 * tells a timeout that ended a connection (the idle timeout, a bounded
 * `close()`), which {@link isConnectionLost} counts as a lost peer, from one
 * that ended an operation only (a connect timeout).
 */
export class TimeoutError extends Error {
  /** Always `"TimeoutError"`. */
  override readonly name = "TimeoutError";
  /** Always `"ERR_TIMEOUT"`: stable across versions, for `switch (error.code)`. */
  readonly code = "ERR_TIMEOUT";
  /** True when the timeout closed a connection; false for a timeout of an operation only. */
  readonly closedConnection: boolean;
  /** The peer of the connection it closed, when known. */
  readonly peer: ErrorPeer;

  constructor(message: string, options?: TimeoutErrorOptions) {
    super(message, options);
    this.closedConnection = options?.closedConnection === true;
    this.peer = options?.peer;
  }
}

/** The operation was cancelled through an AbortSignal. */
export class AbortError extends Error {
  /** Always `"AbortError"`. */
  override readonly name = "AbortError";
  /** Always `"ABORT_ERR"`: stable across versions, for `switch (error.code)`. */
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
  /** Always `"HttpStatusError"`. */
  override readonly name = "HttpStatusError";
  /** Always `"ERR_HTTP_STATUS"`: stable across versions, for `switch (error.code)`. */
  readonly code = "ERR_HTTP_STATUS";
  /** The status code, e.g. 404. */
  readonly status: number;
  /** The reason phrase, possibly empty. */
  readonly reason: string;

  constructor(status: number, reason: string, options?: AsyncNetErrorOptions) {
    super(`Server answered ${status}${reason === "" ? "" : ` ${reason}`}`, options);
    this.status = status;
    this.reason = reason;
  }
}

/** A redirect could not be followed: too many, no `Location`, or a `Location` that is not http(s). */
export class HttpRedirectError extends Error {
  /** Always `"HttpRedirectError"`. */
  override readonly name = "HttpRedirectError";
  /** Always `"ERR_HTTP_REDIRECT"`: stable across versions, for `switch (error.code)`. */
  readonly code = "ERR_HTTP_REDIRECT";
}

/**
 * The server closed the connection before the end of the body: before the
 * `Content-Length` it announced (`expected`), or before the last chunk of a
 * chunked body (`expected` is `undefined`). `received` bytes of the body arrived.
 */
export class HttpBodyTruncatedError extends Error {
  /** Always `"HttpBodyTruncatedError"`. */
  override readonly name = "HttpBodyTruncatedError";
  /** Always `"ERR_HTTP_BODY_TRUNCATED"`: stable across versions, for `switch (error.code)`. */
  readonly code = "ERR_HTTP_BODY_TRUNCATED";
  /** The body bytes received before the connection ended. */
  readonly received: number;
  /** The `Content-Length`, or undefined when the body was chunked. */
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

/**
 * Wraps a socket's reset-like system error in a ConnectionResetError naming
 * `peer`; returns others as they are.
 */
export function normalizeSocketError(error: Error, peer?: ErrorPeer): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && RESET_CODES.has(code)) {
    return new ConnectionResetError(`Connection reset by peer: ${code}`, { cause: error, peer });
  }
  return error;
}

/** An error that means the peer went away: the type {@link isConnectionLost} narrows to. */
export type ConnectionLostError =
  ConnectionResetError | ConnectionClosedError | IncompleteReadError | TimeoutError;

/**
 * Whether `error` means the peer went away, an end of a connection rather
 * than a bug: the one way to recognise each face a lost peer shows.
 *
 * - `ConnectionResetError`: the peer reset the connection (a read, or the
 *   reader's next read, after it).
 * - `ConnectionClosedError`: the connection was closed under an operation
 *   that needed it (a `drain()` whose data can never be sent); its `cause` is
 *   what closed it (a reset, a timeout), `undefined` for a plain close.
 * - `IncompleteReadError`: EOF in the middle of a `readExactly` or `readUntil`.
 * - `TimeoutError` with `closedConnection`: the idle timeout or a bounded
 *   `close()` closed the connection (a connect timeout is not a loss).
 *
 * Each carries the `peer` (from `ConnectionInfo`, which outlives the socket)
 * when known: the library sets it where it makes the error, and the server
 * fills it in when such an error reaches `onError` with its connection. The
 * default `onError` reports these in one line, without a stack.
 *
 * A write after `writeEof()` throws a `ConnectionClosedError` too, which this
 * counts as a loss.
 */
export function isConnectionLost(error: unknown): error is ConnectionLostError {
  if (error instanceof TimeoutError) return error.closedConnection;
  return (
    error instanceof ConnectionResetError ||
    error instanceof ConnectionClosedError ||
    error instanceof IncompleteReadError
  );
}

/**
 * Sets a lost-peer error's `peer` when it has none: for errors made where the
 * connection was not known (a reader fed by hand). Returns `error`.
 * @internal
 */
export function withPeer<E>(error: E, peer: ErrorPeer): E {
  if (isConnectionLost(error) && error.peer === undefined && peer !== undefined) {
    (error as { peer: ErrorPeer }).peer = peer;
  }
  return error;
}

/**
 * What ended a lost connection, in words: the message of the first error in
 * `error`'s `cause` chain that is not a `ConnectionClosedError` wrapping
 * another loss (a drain cut by a reset says "Connection reset by peer: …").
 */
export function lossReason(error: ConnectionLostError): string {
  let current: Error = error;
  while (current instanceof ConnectionClosedError && isConnectionLost(current.cause)) {
    current = current.cause;
  }
  return current.message;
}

/**
 * A peer sent an HTTP/1.x response head that does not parse: a malformed status
 * line or header field. `line` is the offending line, decoded as latin1, without
 * its line end.
 */
export class HttpParseError extends SyntaxError {
  /** Always `"HttpParseError"`. */
  override readonly name = "HttpParseError";
  /** Always `"ERR_HTTP_PARSE"`: stable across versions, for `switch (error.code)`. */
  readonly code = "ERR_HTTP_PARSE";
  /** The offending line, decoded as latin1, without its line end. */
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
  /** Always `"ProxyHeaderError"`. */
  override readonly name = "ProxyHeaderError";
  /** Always `"ERR_PROXY_HEADER"`: stable across versions, for `switch (error.code)`. */
  readonly code = "ERR_PROXY_HEADER";

  constructor(message: string, options?: AsyncNetErrorOptions) {
    super(message, options);
  }
}

/**
 * A STARTTLS upgrade (`transport.startTls`, `writer.startTls`) did not
 * complete: the handshake failed (Node's error is the `cause`), timed out (a
 * {@link TimeoutError} is the `cause`), the peer closed the connection during
 * it, or, under `bufferedPlaintext: "reject"`, plaintext arrived after the
 * command. The connection is closed: nothing it carries can be trusted.
 */
export class TlsHandshakeError extends Error {
  /** Always `"TlsHandshakeError"`. */
  override readonly name = "TlsHandshakeError";
  /** Always `"ERR_TLS_HANDSHAKE"`: stable across versions, for `switch (error.code)`. */
  readonly code = "ERR_TLS_HANDSHAKE";

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
  /** Always `"ProxyRefusedError"`. */
  override readonly name = "ProxyRefusedError";
  /** Always `"ERR_PROXY_REFUSED"`: stable across versions, for `switch (error.code)`. */
  readonly code = "ERR_PROXY_REFUSED";
  /** Why the connection was refused. */
  readonly reason: ProxyRefusalReason;

  constructor(message: string, reason: ProxyRefusalReason, options?: AsyncNetErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}
