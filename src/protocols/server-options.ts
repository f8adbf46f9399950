/**
 * The options of a `Server`, and their checks (made when they are
 * given, before any socket opens).
 *
 * @module
 */

import type { Clock } from "./clock.js";
import type net from "node:net";
import type tls from "node:tls";
import type { DropReason } from "./admission.js";
import type { ConnectionInfo } from "./connection-info.js";
import { MAX_TIMEOUT_MS } from "./sweeper.js";
import { resolveWriteBufferLimits, type Transport, type WriteBufferLimits } from "./transport.js";

/** Where a server listens: TCP hosts and a port, or a Unix socket path. */
export type ListenTarget =
  { host: string | string[] | null | undefined; port: number } | { path: string };

/** Options of `createServer` and `startServer`. Every field is optional. */
export interface ServerOptions {
  /**
   * Node TLS server options (`key`, `cert`, …); when given, every connection is
   * TLS. `handshakeTimeout` (ms, default 120 000 as Node's) is timed by the
   * library's clock from the accept, not refreshed by the client's bytes: a
   * handshake not done by then closes the socket, no earlier than
   * `handshakeTimeout` and no later than `handshakeTimeout + max(handshakeTimeout / 10, 50 ms)`.
   */
  tls?: tls.TlsOptions;
  /** Set TCP_NODELAY on every connection, as asyncio does. Default `true`. */
  noDelay?: boolean;
  /** Length of the kernel's accept queue. Default 511 (Node's). */
  backlog?: number;
  /** Write buffer marks of every connection. Default high 64 KiB, low 16 KiB. */
  writeBufferLimits?: WriteBufferLimits;
  /**
   * Close a connection after this many milliseconds without progress: a read,
   * a write, or any byte of its pending replies taken by the peer; while its
   * write buffer is above the high-water mark only the latter counts (a peer
   * that sends but does not read is idle; see `TransportOptions.idleTimeout`).
   * The close comes no earlier than `idleTimeout` and no later than
   * `idleTimeout + max(idleTimeout / 10, 50 ms)` after the last progress. At
   * most 2³¹ − 1 ms. Default: never.
   */
  idleTimeout?: number;
  /**
   * The clock of every timer of the server and its connections: idle timeout,
   * TLS handshake timeout, close linger, the grace of `shutdown()`. For tests:
   * a virtual clock drives every timeout. Default `systemClock`.
   */
  clock?: Clock;
  /**
   * Close new connections at once while this many are open (waiting sessions
   * included, and over TLS those still in their handshake). Each refusal is
   * counted in `dropped` and reported to `onDrop`. Counted per process (each
   * worker sharing a port has its own count). Default: unlimited.
   */
  maxConnections?: number;
  /**
   * Serve at most this many connections at a time; beyond it connections are
   * accepted but wait, unread, in arrival order, until one ends (`maxSessions: 1`
   * is the seed's one-client-at-a-time server). Default: unlimited.
   */
  maxSessions?: number;
  /**
   * Close new connections at once while this many are open from the same peer
   * address (Unix socket connections are not counted). Default: unlimited.
   */
  maxConnectionsPerPeer?: number;
  /** Stop the server (as `close()`) when this signal aborts. */
  signal?: AbortSignal;
  /**
   * Reports an error that closed one connection (a throwing protocol callback or
   * handler) or a failed accept. Default: written with its stack to stderr.
   * The server keeps serving either way.
   */
  onError?: (error: Error, transport?: Transport) => void;
  /**
   * Called when a connection is refused because of a limit, with the limit's
   * option name and the connection's facts, before the socket is destroyed.
   */
  onDrop?: (socket: net.Socket, reason: DropReason, info: ConnectionInfo) => void;
  /**
   * TLS only: called when a handshake fails (a client certificate refused, a
   * hello that is not TLS, a peer that reset midway), with Node's error, the
   * connection's facts taken at its accept, and the TLS socket (perhaps already
   * destroyed: a client certificate that does not verify against `tls.ca` is
   * dropped by Node with a bare `socket hang up` error and the socket's
   * `authorizationError` set). The socket is destroyed after the call. Not
   * called for a handshake closed by `tls.handshakeTimeout`. Default: nothing
   * is reported.
   */
  onHandshakeError?: (error: Error, info: ConnectionInfo, socket: tls.TLSSocket) => void;
}

/**
 * Checks every option that can be wrong: counts and timeouts are integers
 * >= 0 (`maxSessions` >= 1), `idleTimeout` at most 2³¹ − 1 ms, write buffer
 * limits as `resolveWriteBufferLimits` wants them.
 * @throws {RangeError} naming the first option out of range.
 */
export function validateServerOptions(options: ServerOptions): void {
  const names = [
    "idleTimeout",
    "maxConnections",
    "maxSessions",
    "maxConnectionsPerPeer",
    "backlog",
  ] as const;
  for (const name of names) {
    const value = options[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(`Invalid server option: ${name} must be an integer >= 0, got ${value}`);
    }
  }
  if (options.idleTimeout !== undefined && options.idleTimeout > MAX_TIMEOUT_MS) {
    throw new RangeError(
      `Invalid server option: idleTimeout must be at most ${MAX_TIMEOUT_MS} ms, got ${options.idleTimeout}`,
    );
  }
  if (options.maxSessions === 0) {
    throw new RangeError("Invalid server option: maxSessions must be at least 1, got 0");
  }
  // Checked here, not at the first connection, where a throw would escape the accept callback.
  if (options.writeBufferLimits !== undefined) resolveWriteBufferLimits(options.writeBufferLimits);
}

/** The error reporter used when a server has no `onError`: the error with its stack on stderr. */
export function defaultOnError(error: Error, transport?: Transport): void {
  const peer = transport?.info.peername;
  const where = typeof peer === "object" ? ` (peer ${peer.address} port ${peer.port})` : "";
  process.stderr.write(`asyncnet: error in connection${where}: ${error.stack ?? error}\n`);
}
