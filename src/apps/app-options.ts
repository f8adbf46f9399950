/**
 * What every app shares: its options, the part of a StreamWriter it uses (so a
 * test can pass a fake), and how it tells a shutdown or a lost peer from a bug.
 *
 * @module
 */

import { ConnectionClosedError, isConnectionLost, TimeoutError } from "../errors.js";
import type { StreamWriter } from "../streams/stream-writer.js";
import type { Logger } from "./logger.js";
import type { HasExtraInfo } from "./peer.js";

/** Options every server app takes. */
export interface AppOptions {
  /**
   * The server's logger. The echo apps log through a child per connection,
   * named after the peer (`echo_::1_64624`); the line apps put the peer in the
   * message, as the seed prints it (`('::1', 64624, 0, 0) --> 1,2`).
   */
  logger: Logger;
  /**
   * The most bytes of one line (line servers) or one buffered message
   * (`echoUntil`). Default: the reader's own `limit` (64 KiB unless set).
   */
  limit?: number;
  /**
   * Graceful shutdown: once aborted, the app answers what is already buffered,
   * stops waiting for more and returns, so the server closes the connection.
   */
  signal?: AbortSignal;
}

/** The part of a {@link StreamWriter} the apps use (its `getExtraInfo` untyped, so a fake can stand in). */
export type AppWriter = Pick<
  StreamWriter,
  "write" | "writeLines" | "drain" | "needsDrain" | "canWriteEof" | "writeEof"
> &
  HasExtraInfo;

/** Whether `error` is `signal`'s abort (a shutdown), not a failure. */
export function isShutdown(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && (error === signal.reason || isAbortError(error));
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

/**
 * Whether `error` says the peer went away ({@link isConnectionLost}: a reset,
 * a close under a pending drain, EOF in mid-read), which ends an app's
 * connection quietly. A timeout that closed the connection, or a drain cut
 * short by one, is not quiet for the apps but a {@link timeoutOf} case, which
 * the CLI reports.
 */
export function isConnectionLoss(error: unknown): boolean {
  return isConnectionLost(error) && timeoutOf(error) === undefined;
}

/**
 * The `TimeoutError` that closed a connection: `error` itself (a read cut by
 * the idle timeout, a line over its `lineTimeout`) or its cause (a drain cut by
 * the idle timeout); `undefined` for anything else.
 */
export function timeoutOf(error: unknown): TimeoutError | undefined {
  if (error instanceof TimeoutError) return error;
  if (error instanceof ConnectionClosedError && error.cause instanceof TimeoutError) {
    return error.cause;
  }
  return undefined;
}
