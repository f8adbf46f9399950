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
}

/** Makes a new Protocol for each connection. */
export type ProtocolFactory<P extends Protocol = Protocol> = () => P;
