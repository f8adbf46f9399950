/**
 * What a `Transport` needs from the stream under it, and nothing more.
 *
 * @module
 */

/**
 * The part of a Node `Duplex` that a `Transport` drives: a `net.Socket`,
 * a `tls.TLSSocket`, or any stream that behaves like a socket (an in-memory
 * pair in tests, a stream whose bytes come from elsewhere).
 *
 * "Behaves like a socket" means:
 * - `data` events carry `Buffer`s; `end` is emitted once when the peer has no
 *   more to send (a half-close), and the stream must be made with
 *   `allowHalfOpen: true` so that ending one side does not end the other;
 * - `close` is emitted exactly once, last, after `destroy()` or after both
 *   sides have ended; `error` (if any) comes before it;
 * - `write(data, callback)` calls `callback` once the chunk has left the
 *   stream's buffer (`writableLength` counts what has not), and `end(callback)`
 *   calls it once everything written before has;
 * - `pause()` stops `data` events until `resume()`.
 *
 * A TLS stream says so with `encrypted: true` (then the transport cannot
 * `writeEof`, as TLS cannot half-close). `setNoDelay` is called only when the
 * stream has it.
 */
export interface TransportStream {
  /** Each chunk received, as a `Buffer`. */
  on(event: "data", listener: (data: Buffer) => void): this;
  /** `end`: the peer's half-close, once; `close`: once, last, after both sides ended or `destroy()`. */
  on(event: "end" | "close", listener: () => void): this;
  /** A stream error, before `close`. */
  on(event: "error", listener: (error: Error) => void): this;
  /** As `on("close")`, once. */
  once(event: "close", listener: () => void): this;
  /** Queues `data`; `callback` runs once it has left the stream's buffer. The result is ignored. */
  write(data: Uint8Array | string, callback?: (error?: Error | null) => void): boolean;
  /** Half-closes after everything written; `callback` runs once that has been handed on. */
  end(callback?: () => void): this;
  /** Closes at once, dropping what is buffered; `close` follows (after `error`, if given). */
  destroy(error?: Error): this;
  /** Stops `data` events until {@link resume}. */
  pause(): this;
  /** Restarts `data` events after {@link pause}. */
  resume(): this;
  /** Holds writes until {@link uncork}, so a burst goes out in one piece. */
  cork(): void;
  /** Releases what was written since {@link cork}. */
  uncork(): void;
  /** Bytes written but not yet handed on (to the kernel, for a socket). */
  readonly writableLength: number;
  /** True once `end()` was called and every byte written before it has been handed on. */
  readonly writableFinished: boolean;
  /** True once `destroy()` was called or the stream closed. */
  readonly destroyed: boolean;
  /** True once the peer's `end` was received. */
  readonly readableEnded: boolean;
  /** True on a TLS stream. */
  readonly encrypted?: boolean;
  /** TCP_NODELAY, for a socket; called only when present. */
  setNoDelay?(noDelay?: boolean): unknown;
}
