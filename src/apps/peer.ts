/**
 * How the seeds name a connection's peer: `echo_::1_64624` for a logger,
 * `('127.0.0.1', 59778)` for Python's `print` of an address tuple.
 *
 * @module
 */

import { asciiRepr } from "../framing/ascii-repr.js";

/** A connection's remote end. `port` is absent for a Unix socket. */
export interface Peer {
  address: string;
  port?: number;
  family?: string;
}

/**
 * Anything that answers `getExtraInfo("peername")`: a StreamWriter or a
 * Transport, which answer from the connection's `ConnectionInfo`, taken when
 * it started (so the peer is still known after the socket is gone).
 */
export interface HasExtraInfo {
  getExtraInfo(name: string, fallback?: unknown): unknown;
}

/**
 * The peer of a connection, or `{ address: "?" }` when it has none (a peer
 * that reset before its address could be read, a stream that is not a socket).
 */
export function peerOf(connection: HasExtraInfo): Peer {
  const info = connection.getExtraInfo("peername");
  if (typeof info === "string") return { address: info };
  if (typeof info === "object" && info !== null && "address" in info) {
    const { address, port, family } = info as Partial<Peer>;
    if (typeof address === "string") return { address, port, family };
  }
  return { address: "?" };
}

/** A logger name as the seeds build it: `'echo_{}_{}'.format(*address)` gives `echo_::1_64624`. */
export function peerLoggerName(prefix: string, peer: Peer): string {
  return peer.port === undefined
    ? `${prefix}_${peer.address}`
    : `${prefix}_${peer.address}_${peer.port}`;
}

/**
 * Python's `str()` of a socket address tuple: `('127.0.0.1', 59778)` for IPv4,
 * `('::1', 59778, 0, 0)` for IPv6 (flow info and scope id, which Node does not
 * report, are written as 0).
 */
export function pythonAddress(peer: Peer): string {
  if (peer.port === undefined) return asciiRepr(peer.address);
  const extra = peer.family === "IPv6" || peer.address.includes(":") ? ", 0, 0" : "";
  return `(${asciiRepr(peer.address)}, ${peer.port}${extra})`;
}
