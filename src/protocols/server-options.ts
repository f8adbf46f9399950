/**
 * The options of a `Server`, and their checks (made when they are
 * given, before any socket opens).
 *
 * @module
 */

import { type ErrorPeer, isConnectionLost, lossReason } from "../errors.js";
import type { Clock } from "./clock.js";
import type net from "node:net";
import type tls from "node:tls";
import type { DropReason } from "./admission.js";
import type { ConnectionInfo } from "./connection-info.js";
import type { CloseCause } from "./server-stats.js";
import type { ProxyProtocolOptions } from "./proxy-front-door.js";
import { MAX_TIMEOUT_MS } from "./sweeper.js";
import {
  resolveWriteBufferLimits,
  type Transport,
  validateCloseTimeout,
  type WriteBufferLimits,
} from "./transport.js";

/** Where a server listens: TCP hosts and a port, or a Unix socket path. */
export type ListenTarget =
  | {
      /** As `createServer`'s `host`: a name, an address, several, or null/undefined for every interface. */
      host: string | string[] | null | undefined;
      /** The TCP port, 0 for one the system picks. */
      port: number;
    }
  | {
      /** A Unix socket's path (see `createUnixServer`). */
      path: string;
    };

/** Options of `createServer` and `startServer`. Every field is optional. */
export interface ServerOptions {
  /**
   * Node TLS server options (`key`, `cert`, …); when given, every connection is
   * TLS. `handshakeTimeout` (ms, default 120 000 as Node's) is timed by the
   * library's clock from the accept (with `proxyProtocol`, from the header's
   * end), not refreshed by the client's bytes: a
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
   * Bound each connection's `close()` (the close after a stream handler ends,
   * `closeClients()`, a protocol's own close) to this many milliseconds: a
   * close whose data the peer does not take by then aborts the connection
   * with a `TimeoutError` (see `CloseOptions`). At most 2³¹ − 1 ms. Default:
   * unbounded, so a peer that never reads holds a closing connection open
   * until `idleTimeout`, if any, or the `shutdown()` grace.
   */
  closeTimeout?: number;
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
  /**
   * Expect a PROXY protocol header (v1 or v2, HAProxy's `send-proxy`,
   * `send-proxy-v2`, nginx's `proxy_protocol on`) at the start of every
   * connection: connections come from a load balancer, and the header names
   * the real client. From the header on, the connection's facts are the
   * client's (`peername`, `sockname`, the per-peer limit, logs; `proxy` holds
   * the header and its TLVs; see `ConnectionInfo`). The header is required:
   * a connection from an address not in `trusted` (default loopback only), a
   * malformed header, one cut short by EOF, or none within `headerTimeout`
   * (default 5000 ms) closes that connection only, reported through
   * `onRefused` (default `onError`), at most once a second. A v2 `LOCAL`
   * header (a proxy's health check) is served with the real endpoints.
   * With `tls` too, the header comes in plaintext and the TLS handshake
   * follows on the same connection (HAProxy's `send-proxy-v2 ssl`, a
   * ClientHello in the header's segment included): `tls.handshakeTimeout`
   * runs from the header's end, `onHandshakeError` gets the header's client,
   * and a served connection has both `tls` and `proxy` facts. Default: off.
   */
  proxyProtocol?: ProxyProtocolOptions;
  /** Stop the server (as `close()`) when this signal aborts. */
  signal?: AbortSignal;
  /**
   * Reports an error that closed one connection (a throwing protocol callback or
   * handler) or a failed accept. Default {@link defaultOnError}: a lost peer
   * (`isConnectionLost`) in one line, anything else with its stack, to
   * stderr. The server keeps serving either way.
   */
  onError?: (error: Error, transport?: Transport) => void;
  /**
   * Called when a connection is refused because of a limit, with the limit's
   * option name and the connection's facts, before the socket is destroyed.
   */
  onDrop?: (socket: net.Socket, reason: DropReason, info: ConnectionInfo) => void;
  /**
   * Called for each connection served, once admitted (and over TLS, after its
   * handshake) and given a transport, just before its protocol's
   * `connectionMade`: for logs and metrics. A throw is reported through
   * `onError` and the connection goes on.
   */
  onConnection?: (transport: Transport) => void;
  /**
   * Called once for each served connection when it has closed, after its
   * protocol's `connectionLost`, with the same cause `stats().closed` counts
   * it under and the error it closed with, if any (an idle timeout's
   * `TimeoutError`, a reset, a protocol's throw; a handler's error reported
   * through `onError` is not repeated here). A throw is reported through
   * `onError`.
   */
  onConnectionClosed?: (transport: Transport, cause: CloseCause, error?: Error) => void;
  /**
   * TLS only: called when a handshake fails (a client certificate refused, a
   * hello that is not TLS, a peer that reset midway), with Node's error, the
   * connection's facts taken at its accept, and the TLS socket (perhaps already
   * destroyed: a client certificate that does not verify against `tls.ca` is
   * dropped by Node with a bare `socket hang up` error and the socket's
   * `authorizationError` set). The socket is destroyed after the call. A
   * handshake closed by `tls.handshakeTimeout` may be reported too, as Node's
   * `socket hang up` (ECONNRESET). With `proxyProtocol`, `info` is the
   * header's (the client's). Default: nothing is reported.
   */
  onHandshakeError?: (error: Error, info: ConnectionInfo, socket: tls.TLSSocket) => void;
}

/**
 * Checks every option that can be wrong: counts and timeouts are integers
 * >= 0 (`maxSessions` >= 1), `idleTimeout` and `closeTimeout` at most 2³¹ − 1 ms, write buffer
 * limits as `resolveWriteBufferLimits` wants them. (`proxyProtocol` is checked
 * by the server's constructor, with `resolveProxyProtocol`.)
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
  if (options.closeTimeout !== undefined) {
    validateCloseTimeout(options.closeTimeout, "server option: closeTimeout");
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

/**
 * The error reporter used when a server has no `onError`, writing one report
 * to stderr:
 *
 * - a lost peer ({@link isConnectionLost}: a reset, a close under a drain,
 *   EOF in mid-read, a timeout that closed the connection), also one a handler
 *   let escape, is a routine end: one line, no stack,
 *   `asyncnet: connection from 127.0.0.1:5000 lost: Connection reset by peer: ECONNRESET`
 *   (the peer from the error's `peer` or the transport's `info`; IPv6 as
 *   `[::1]:5000`, a Unix socket by its path when known; left out when unknown);
 * - anything else is a bug, with its stack:
 *   `asyncnet: error in connection (peer 127.0.0.1 port 5000): TypeError: …`.
 */
export function defaultOnError(error: Error, transport?: Transport): void {
  const peer = transport?.info.peername;
  if (isConnectionLost(error)) {
    const from = formatPeer(error.peer ?? peer);
    const who = from === undefined ? "" : ` from ${from}`;
    process.stderr.write(`asyncnet: connection${who} lost: ${lossReason(error)}\n`);
    return;
  }
  const where = typeof peer === "object" ? ` (peer ${peer.address} port ${peer.port})` : "";
  process.stderr.write(`asyncnet: error in connection${where}: ${error.stack ?? error}\n`);
}

function formatPeer(peer: ErrorPeer): string | undefined {
  if (typeof peer === "string") return peer === "" ? undefined : peer;
  if (peer === undefined) return undefined;
  return peer.address.includes(":")
    ? `[${peer.address}]:${peer.port}`
    : `${peer.address}:${peer.port}`;
}
