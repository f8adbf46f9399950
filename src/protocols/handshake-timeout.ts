/**
 * The TLS handshake timeout of servers, on the library's clock.
 *
 * @module
 */

import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Clock } from "./clock.js";
import {
  kExpire,
  kProgress,
  kSeen,
  kSeenAt,
  MAX_TIMEOUT_MS,
  type Sweeper,
  SweeperPool,
  type Watched,
} from "./sweeper.js";

/** Node's default `handshakeTimeout`, kept as the library's: 120 s. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 120_000;

const kPending: unique symbol = Symbol("asyncnet.handshake");
type RawSocket = Socket & { [kPending]?: PendingHandshake };

/** One accepted TLS socket still in its handshake: a deadline counted from the accept. */
class PendingHandshake implements Watched {
  readonly socket: Socket;
  readonly sweeper: Sweeper<PendingHandshake>;
  [kSeen] = 0;
  [kSeenAt] = 0;

  constructor(socket: Socket, sweeper: Sweeper<PendingHandshake>) {
    this.socket = socket;
    this.sweeper = sweeper;
  }

  [kProgress](): number {
    return 0;
  }

  [kExpire](): void {
    this.socket.destroy();
  }
}

const sweepers = new SweeperPool<PendingHandshake>();

/**
 * The handshake timeout of `tls` server options, in ms: `handshakeTimeout`,
 * or {@link DEFAULT_HANDSHAKE_TIMEOUT_MS} when it is not given.
 * @throws {RangeError} for a value that is not a number in 1..2³¹ − 1.
 */
export function resolveHandshakeTimeout(options: { handshakeTimeout?: number }): number {
  const value = options.handshakeTimeout;
  if (value === undefined) return DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (typeof value !== "number" || !(value >= 1) || value > MAX_TIMEOUT_MS) {
    throw new RangeError(
      `Invalid server option: tls.handshakeTimeout must be a number in 1..${MAX_TIMEOUT_MS} ms, got ${value}`,
    );
  }
  return Math.ceil(value);
}

/**
 * Node's TLS server options with Node's own handshake timer turned off, so
 * that {@link timeHandshake} is the only one: Node arms its timer only for a
 * positive value, and replaces only a falsy one by its 120 s default.
 */
export function withoutNodeHandshakeTimer<O extends object>(options: O): O {
  return { ...options, handshakeTimeout: -1 };
}

/**
 * Times the handshake of a TLS server's raw socket `socket`, just accepted:
 * unless {@link handshakeDone} is called for it first, the socket is destroyed
 * `timeout` ms after now (within `timeout + max(timeout / 10, 50 ms)`).
 * Unlike Node's timer, which is an idle timer, the bytes of a client that
 * trickles its hello do not put it off. One sweeper per timeout and clock, no
 * Node timer per socket.
 */
export function timeHandshake(socket: Socket, timeout: number, clock: Clock): void {
  const sweeper = sweepers.get(timeout, clock);
  const pending = new PendingHandshake(socket, sweeper);
  (socket as RawSocket)[kPending] = pending;
  sweeper.add(pending);
  socket.once("close", () => sweeper.delete(pending));
}

/**
 * Stops timing the handshake of `secure`, a TLS socket whose handshake ended.
 * Node keeps the raw socket as the TLS socket's `_parent` (an internal field,
 * present since Node's first TLS sockets); Bun's TLS server accepts the TLS
 * socket itself (its `connection` event gives the socket `secureConnection`
 * gives), so that is where the timer is found there.
 */
export function handshakeDone(secure: TLSSocket): void {
  const parent = (secure as unknown as { _parent?: RawSocket | null })._parent;
  const raw = parent?.[kPending] !== undefined ? parent : (secure as RawSocket);
  const pending = raw[kPending];
  if (pending === undefined) return;
  pending.sweeper.delete(pending);
  raw[kPending] = undefined;
}
