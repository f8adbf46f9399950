/**
 * A server's counters: connections accepted, refused, served and closed (by
 * cause), bytes in and out, handler errors. Plain integers bumped where the
 * event happens, no per-connection object and no timer, so that counting
 * costs nothing a benchmark can see.
 *
 * @module
 */

import { ConnectionClosedError, ConnectionResetError, TimeoutError } from "../errors.js";
import type { DropReason } from "./admission.js";

/**
 * Why a served connection closed, as `server.stats().closed` counts it and
 * `onConnectionClosed` is told. One cause per connection, the first hard one
 * that happened, else the soft one:
 * - `idle`: the server's `idleTimeout` closed it;
 * - `lineTimeout`: its handler failed with a `TimeoutError` (serveLines'
 *   `lineTimeout`, or a timeout of the handler's own);
 * - `reset`: the peer reset it (`ConnectionResetError`: ECONNRESET, EPIPE…);
 * - `error`: a protocol callback or the handler threw, or the socket failed
 *   otherwise;
 * - `aborted`: `transport.abort()` without an error (`abortClients()`, the
 *   end of `shutdown()`'s grace, a protocol that aborted);
 * - `shutdown`: closed after the server asked it to finish (`shutdown()`);
 * - `eof`: closed after the peer's EOF;
 * - `closed`: closed by the local side (protocol or handler) before any EOF.
 */
export type CloseCause =
  "eof" | "closed" | "idle" | "lineTimeout" | "reset" | "error" | "shutdown" | "aborted";

/** Every {@link CloseCause}, in the order the stats list them. */
export const CLOSE_CAUSES: readonly CloseCause[] = Object.freeze([
  "eof",
  "closed",
  "idle",
  "lineTimeout",
  "reset",
  "error",
  "shutdown",
  "aborted",
]);

/** Every {@link DropReason}, in the order the stats list them. */
export const DROP_REASONS: readonly DropReason[] = Object.freeze([
  "maxConnections",
  "maxConnectionsPerPeer",
]);

/**
 * A snapshot of a server's counters, from `server.stats()`: a new plain
 * object each call, which does not change afterwards. Every count starts at 0
 * when the server is made and only grows, except the two gauges
 * (`connectionsOpen`, `connectionsWaiting`). Counts are per process.
 *
 * `connectionsOpen` is `served` minus the sum of `closed` once every close
 * has been seen (a connection whose `connectionMade` threw leaves the open
 * count at once and is counted closed, as `error`, when its socket closes).
 */
export interface ServerStats {
  /** Connections served now: a transport is open (the server's `connections`). */
  connectionsOpen: number;
  /** Connections admitted but waiting for a session (`maxSessions`). */
  connectionsWaiting: number;
  /** Connections the listener accepted, before admission (so refused ones too). */
  accepted: number;
  /** Connections refused at the door, by the limit that refused them. */
  refused: Record<DropReason, number>;
  /**
   * Connections served: each got a transport and `onConnection`. An accepted
   * connection neither refused nor served closed before it was (a TLS
   * handshake that failed, a connection still waiting at shutdown).
   */
  served: number;
  /** Served connections that closed, by {@link CloseCause}. */
  closed: Record<CloseCause, number>;
  /** Bytes read from every connection (TLS: the plaintext), including those dropped while closing. */
  bytesReceived: number;
  /** Bytes handed to every connection's `write` and not dropped (TLS: the plaintext); strings counted as UTF-8. */
  bytesSent: number;
  /**
   * Errors reported through `onError` for a connection that are neither a
   * timeout nor a reset nor a consequence of the connection's end: a
   * protocol callback or a handler that threw. Failed accepts are not counted.
   */
  handlerErrors: number;
}

/**
 * @internal The live counters a server and its transports bump: one object
 * per server, shared by its transports through their options (bytes: a
 * socket's own counts once it closed, each chunk and write of a stream that
 * does not count itself).
 */
export class StatCounters {
  accepted = 0;
  served = 0;
  bytesReceived = 0;
  bytesSent = 0;
  handlerErrors = 0;
  refused: Record<DropReason, number> = { maxConnections: 0, maxConnectionsPerPeer: 0 };
  closed: Record<CloseCause, number> = {
    eof: 0,
    closed: 0,
    idle: 0,
    lineTimeout: 0,
    reset: 0,
    error: 0,
    shutdown: 0,
    aborted: 0,
  };

  /** A snapshot, with the two gauges the server knows and the bytes of its open connections (`live`). */
  snapshot(
    connectionsOpen: number,
    connectionsWaiting: number,
    live: { readonly bytesReceived: number; readonly bytesSent: number } = {
      bytesReceived: 0,
      bytesSent: 0,
    },
  ): ServerStats {
    return {
      connectionsOpen,
      connectionsWaiting,
      accepted: this.accepted,
      refused: { ...this.refused },
      served: this.served,
      closed: { ...this.closed },
      bytesReceived: this.bytesReceived + live.bytesReceived,
      bytesSent: this.bytesSent + live.bytesSent,
      handlerErrors: this.handlerErrors,
    };
  }
}

/**
 * The hard close cause an error stands for, or `undefined` for one that is
 * only a consequence of the connection's end (a `ConnectionClosedError` with
 * no timeout or reset behind it). A `TimeoutError` is `timeout`: the
 * transport's idle timeout names itself `idle` before any handler sees it.
 */
export function errorCause(error: Error): "timeout" | "reset" | "error" | undefined {
  const inner = error instanceof ConnectionClosedError ? error.cause : error;
  if (inner instanceof TimeoutError) return "timeout";
  if (inner instanceof ConnectionResetError) return "reset";
  if (error instanceof ConnectionClosedError) return undefined;
  return "error";
}

/**
 * The close cause an error stands for, when a connection is aborted with it,
 * its socket fails with it, or it is reported for it: `lineTimeout` for a
 * `TimeoutError` (the idle timeout names itself `idle` first), `reset`,
 * `error`, or `aborted` for a mere consequence of the end.
 */
export function closeCauseOf(error: Error): CloseCause {
  const cause = errorCause(error);
  if (cause === "timeout") return "lineTimeout";
  return cause ?? "aborted";
}

// How strongly a cause holds: a stronger one replaces a weaker one, an equal one stays.
const CAUSE_RANK: Readonly<Record<CloseCause, number>> = {
  closed: 0,
  eof: 1,
  shutdown: 1,
  aborted: 2,
  idle: 3,
  lineTimeout: 3,
  reset: 3,
  error: 3,
};

/**
 * @internal The cause a connection closing for `current` so far closes for
 * once `next` happens too: the stronger of the two, `current` when they are
 * as strong (the first hard cause wins).
 */
export function strongerCause(current: CloseCause, next: CloseCause): CloseCause {
  return CAUSE_RANK[next] > CAUSE_RANK[current] ? next : current;
}
