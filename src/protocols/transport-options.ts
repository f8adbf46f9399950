/**
 * The options a `Transport` is made with, and those of its `close()`.
 *
 * @module
 */

import type { Clock } from "./clock.js";
import type { CloseCause } from "./server-stats.js";
import type { Transport } from "./transport.js";
import type { WriteBufferLimits } from "./write-buffer-limits.js";

/** Options of a Transport, given by the server or client that creates it. */
export interface TransportOptions {
  /** Write buffer marks; see {@link WriteBufferLimits}. */
  writeBufferLimits?: WriteBufferLimits;
  /**
   * Close the connection after this many milliseconds without progress: a
   * read, a write, or any byte of a pending write taken by the kernel (so by
   * the peer's window). It closes no earlier than `idleTimeout` and no later
   * than `idleTimeout + max(idleTimeout / 10, 50 ms)` after the last progress.
   * While the write buffer is above its high-water mark, reads and new writes
   * do not count: a peer that keeps sending but reads none of the replies is
   * idle, one that reads them slowly but steadily is not. The close is a
   * `TimeoutError`, `Connection closed: idle timeout`, with `with N bytes
   * unsent` added when replies were still waiting. Default: never.
   */
  idleTimeout?: number;
  /**
   * Bound every `close()` to this many milliseconds (see {@link CloseOptions}):
   * a close whose data the peer does not take within it aborts the connection.
   * At most 2³¹ − 1 ms. Default: unbounded (a close waits for the flush as
   * long as the peer keeps the connection open, or until `idleTimeout`).
   */
  closeTimeout?: number;
  /** The clock of the idle timeout and the close linger. For tests: a virtual clock drives every timeout. Default {@link systemClock}. */
  clock?: Clock;
  /**
   * Called with an error thrown by one of the protocol's callbacks, or with
   * the {@link TlsHandshakeError} of a failed `startTls`, before the
   * connection is aborted.
   */
  onProtocolError?: (error: Error, transport: Transport) => void;
  /**
   * Called once, after `connectionLost`, with why the connection closed (see
   * {@link CloseCause}) and the error it closed with, if any.
   */
  onLost?: (transport: Transport, cause: CloseCause, error: Error | undefined) => void;
  /** Called once, when the transport has taken the socket, just before `connectionMade`. */
  onOpen?: (transport: Transport) => void;
  /**
   * @internal Byte counters to add every chunk read and every write to (a
   * server's stats, one object shared by its transports).
   */
  counters?: ByteCounters;
}

/** @internal What a transport adds its bytes to. */
export interface ByteCounters {
  bytesReceived: number;
  bytesSent: number;
}

/** Options of {@link Transport.close}. */
export interface CloseOptions {
  /**
   * The most milliseconds the close may take, timed by the transport's
   * `clock` from the call: when it ends with data still unsent the connection
   * is aborted, and `connectionLost` gets a `TimeoutError` (`closedConnection`,
   * `Cannot close: N bytes unsent after T ms`); when it ends during the linger
   * the socket is destroyed without one. The timer is one of the clock's, so
   * it fires no earlier than `timeout` ms after the call. An integer in
   * 0..2³¹ − 1. Default: the transport's `closeTimeout` option, else unbounded.
   */
  timeout?: number;
}
