/**
 * Two plain Node `Duplex` streams joined like the ends of a socket: for code
 * that takes any `Duplex` (a `Transport` takes one too). For a connection with
 * chunking, a window, manual delivery and faults, use `createConnectionPair`.
 *
 * @module
 */

import { Duplex } from "node:stream";

/**
 * One end of a {@link duplexPair}. What one end writes the other reads; a
 * write's callback runs once the other end has taken the chunk (at once
 * unless that end's read buffer is full, as when it is paused), so
 * `writableLength` grows while the other end does not read, as a socket's
 * does while the peer's window is shut. `end()` is a half-close (the other
 * end sees `end`); `destroy()` ends the other end's reading too. Both ends
 * allow half-open, and each emits `close` once both its sides are done.
 */
export class MemoryEnd extends Duplex {
  /** The other end. */
  peer!: MemoryEnd;
  /** The callback of the write waiting for the other end to read. */
  #waiting: (() => void) | undefined;
  #eofSent = false;

  constructor() {
    super({ allowHalfOpen: true });
  }

  /** Hands `chunk` to the other end; its callback waits while that end's read buffer is full. */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (this.peer.push(chunk)) callback();
    else this.#waiting = callback;
  }

  /** The other end may write again: runs its waiting write callback. */
  override _read(): void {
    const waiting = this.peer.#waiting;
    this.peer.#waiting = undefined;
    waiting?.();
  }

  /** Sends EOF to the other end. */
  override _final(callback: () => void): void {
    this.#eofSent = true;
    this.peer.push(null);
    callback();
  }

  /** Ends the other end's reading with EOF unless it was sent already. */
  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    // A destroyed end sends nothing more: the other end reads EOF.
    if (!this.#eofSent && !this.peer.destroyed) this.peer.push(null);
    this.#eofSent = true;
    this.#waiting = undefined;
    callback(error);
  }
}

/**
 * A new pair of joined {@link MemoryEnd}s.
 *
 * @example
 * ```ts
 * const [near, far] = duplexPair();
 * const transport = new Transport(near, protocol);
 * far.write("hello"); // protocol.dataReceived gets it
 * ```
 */
export function duplexPair(): [MemoryEnd, MemoryEnd] {
  const a = new MemoryEnd();
  const b = new MemoryEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
