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
  on(event: "data", listener: (data: Buffer) => void): this;
  on(event: "end" | "close", listener: () => void): this;
  on(event: "error", listener: (error: Error) => void): this;
  once(event: "close", listener: () => void): this;
  write(data: Uint8Array | string, callback?: (error?: Error | null) => void): boolean;
  end(callback?: () => void): this;
  destroy(error?: Error): this;
  pause(): this;
  resume(): this;
  cork(): void;
  uncork(): void;
  /** Bytes written but not yet handed on (to the kernel, for a socket). */
  readonly writableLength: number;
  /** True once `end()` was called and every byte written before it has been handed on. */
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  /** True once the peer's `end` was received. */
  readonly readableEnded: boolean;
  /** True on a TLS stream. */
  readonly encrypted?: boolean;
  setNoDelay?(noDelay?: boolean): unknown;
}
