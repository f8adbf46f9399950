import type { Transport } from "./transport.js";

/**
 * The callbacks of one connection, asyncio's `Protocol` in camelCase.
 *
 * The transport calls them in this order, each connection exactly once through:
 *
 * ```text
 * connectionMade → dataReceived* → eofReceived? → connectionLost
 * ```
 *
 * - `connectionMade` is called once, before anything else.
 * - `dataReceived` is called for every chunk read, never with an empty chunk.
 * - `eofReceived` is called at most once, when the peer half-closed its side.
 *   Returning `true` keeps the connection half-open so the protocol can still
 *   write (and must later call `transport.close()`); any other return value
 *   makes the transport close itself after flushing.
 * - `connectionLost` is called exactly once, last: with no argument after a
 *   clean close, with the error after a failure.
 * - `shutdownRequested` may come at any point between `connectionMade` and
 *   `connectionLost` when the server begins a graceful stop
 *   (`server.shutdown()`). The protocol finishes the work in hand and then
 *   closes the transport itself (`transport.close()`); data may keep arriving
 *   meanwhile. A protocol without it is closed gracefully at once (what was
 *   written is flushed, then the connection closes). If it does not finish
 *   within the shutdown's grace period, the server aborts it.
 *
 * An exception thrown by any callback closes that connection only: it is
 * reported to the server's error handler, the transport is aborted and
 * `connectionLost` is called with the error.
 */
export interface Protocol {
  /** The connection is ready; `transport` is the only way to talk to the peer. */
  connectionMade(transport: Transport): void;
  /** Bytes arrived. The buffer is owned by the protocol from now on. */
  dataReceived(data: Buffer): void;
  /** The peer sent EOF. Return `true` to keep the connection half-open. */
  eofReceived?(): boolean | void;
  /** The connection is gone; `error` is set when it ended by a failure. */
  connectionLost(error?: Error): void;
  /** The transport's write buffer went above its high-water mark. */
  pauseWriting?(): void;
  /** The transport's write buffer went back down to its low-water mark. */
  resumeWriting?(): void;
  /**
   * A graceful stop began: finish the work in hand, then close the transport
   * (`close()`, which flushes). Never called after `connectionLost` or once
   * the transport is closing; called again by a second `shutdown()`, so it
   * must be idempotent. Until the protocol
   * closes, the server waits for it, up to the shutdown's grace period, after
   * which it aborts the connection. Without this callback the transport is
   * closed gracefully at once.
   */
  shutdownRequested?(): void;
}

/** Makes a new Protocol for each connection. */
export type ProtocolFactory<P extends Protocol = Protocol> = () => P;
