/**
 * One end of an in-memory connection: a `TransportStream` whose bytes a
 * `MemoryLink` carries to its peer.
 *
 * @module
 */

import { EventEmitter } from "node:events";
import type { TransportStream } from "../protocols/transport-stream.js";
import type { Cutter } from "./chunking.js";
import type { MemoryLink } from "./memory-link.js";

interface Write {
  data: Buffer;
  callbacks: ((error?: Error | null) => void)[];
}

/** A `write` or `end` callback that is called at most once. */
type Callback = (error?: Error | null) => void;

/**
 * One end of an in-memory connection, behaving as a `TransportStream` says a
 * socket does (half-close, `close` once and last, write callbacks once the
 * peer took the bytes, `pause` stopping `data`). Made by `MemoryLink`;
 * a test reaches it as `end.stream`.
 */
export class MemoryStream extends EventEmitter implements TransportStream {
  /** @internal */ peer!: MemoryStream;
  readonly #link: MemoryLink;
  /** Writes not yet taken by the peer. */
  readonly #queue: Write[] = [];
  #queued = 0;
  #corked = 0;
  #cork: Write | undefined;
  /** Bytes taken from the peer while paused: they wait in this end's window. */
  readonly #inbox: Buffer[] = [];
  #inboxBytes = 0;
  #paused = false;
  #ending = false;
  #finished = false;
  #endCallbacks: Callback[] = [];
  #eofDelivered = false;
  #destroyed = false;
  #closeEmitted = false;
  #writes = 0;
  #failAt = 0;
  #failError: Error | undefined;

  /** @internal */
  constructor(link: MemoryLink) {
    super();
    this.#link = link;
    // As a Node stream, an end with no `data` listener is not flowing: what
    // arrives waits (in its window) until one is added.
    this.on("newListener", (event: string) => {
      if (event === "data") this.#link.schedule();
    });
  }

  /** Not flowing: paused, or no one listens for `data`. */
  get #holding(): boolean {
    return this.#paused || this.listenerCount("data") === 0;
  }

  write(data: Uint8Array | string, callback?: Callback): boolean {
    const chunk = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
    if (this.#destroyed || this.#ending) {
      const error = new Error(this.#destroyed ? "write after destroy" : "write after end");
      if (callback !== undefined) process.nextTick(callback, error);
      return false;
    }
    this.#writes++;
    if (this.#failAt !== 0 && this.#writes === this.#failAt) {
      this.#failAt = 0;
      if (callback !== undefined) process.nextTick(callback, this.#failError);
      // The earlier writes were handed on: they still arrive, then EOF.
      this.#teardown(this.#failError, false, true);
      return false;
    }
    const callbacks = callback === undefined ? [] : [callback];
    if (this.#corked > 0) {
      this.#cork ??= { data: Buffer.alloc(0), callbacks: [] };
      this.#cork.data = Buffer.concat([this.#cork.data, chunk]);
      this.#cork.callbacks.push(...callbacks);
      return true;
    }
    this.#enqueue({ data: chunk, callbacks });
    return true;
  }

  #enqueue(write: Write): void {
    if (write.data.length === 0) {
      for (const callback of write.callbacks) process.nextTick(callback);
      return;
    }
    this.#queue.push(write);
    this.#queued += write.data.length;
    this.#link.schedule();
  }

  cork(): void {
    this.#corked++;
  }

  uncork(): void {
    if (this.#corked === 0 || --this.#corked > 0) return;
    const batch = this.#cork;
    this.#cork = undefined;
    if (batch !== undefined) this.#enqueue(batch);
  }

  end(callback?: () => void): this {
    if (callback !== undefined) this.#endCallbacks.push(callback);
    if (this.#ending || this.#destroyed) return this;
    this.#corked = 1;
    this.uncork();
    this.#ending = true;
    this.#link.schedule();
    return this;
  }

  destroy(error?: Error): this {
    this.#teardown(error, false);
    return this;
  }

  /** @internal A reset: this end goes, the peer gets `error` and goes at once too, dropping what waited. */
  reset(error: Error): void {
    const peer = this.peer;
    this.#teardown(undefined, true);
    peer.#teardown(error, true);
  }

  #teardown(error: Error | undefined, abrupt: boolean, keepSent = false): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    const dropped = keepSent ? [] : this.#queue.splice(0);
    if (!keepSent) this.#queued = 0;
    this.#cork = undefined;
    if (abrupt) {
      this.#inbox.length = 0;
      this.#inboxBytes = 0;
    }
    // As a socket closing without reset: the peer reads what was already taken, then EOF.
    this.#ending = true;
    this.#finished = true;
    this.#link.schedule();
    process.nextTick(() => {
      const gone = new Error("Cannot write: the stream was destroyed");
      for (const write of dropped) for (const callback of write.callbacks) callback(gone);
      if (error !== undefined) this.emit("error", error);
      this.#emitClose();
    });
  }

  #emitClose(): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.emit("close");
  }

  pause(): this {
    this.#paused = true;
    return this;
  }

  resume(): this {
    if (!this.#paused) return this;
    this.#paused = false;
    this.#link.schedule();
    return this;
  }

  /** Whether `data` events are stopped (by `pause()`: the transport's `pauseReading`, a reader's flow control). */
  isPaused(): boolean {
    return this.#paused;
  }

  /** A socket's; nothing to do in memory. */
  setNoDelay(): this {
    return this;
  }

  get writableLength(): number {
    return this.#queued + (this.#cork?.data.length ?? 0);
  }

  get writableFinished(): boolean {
    return this.#finished;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  get readableEnded(): boolean {
    return this.#eofDelivered;
  }

  /** Bytes on their way to this end and not yet emitted: the peer's unsent writes and this end's window. */
  get pendingBytes(): number {
    return this.#inboxBytes + this.peer.#queued;
  }

  /** @internal Makes the `nth` write from now (1 = the next) fail with `error`, which destroys this end. */
  failWrite(nth: number, error: Error): void {
    this.#failAt = this.#writes + nth;
    this.#failError = error;
  }

  /**
   * @internal Moves at most one chunk towards this end (from its window, or
   * from the peer's writes), or its EOF, or the peer's finish. Returns whether
   * anything happened.
   */
  step(cut: Cutter, window: number): boolean {
    const peer = this.peer;
    if (this.#destroyed) {
      // Bytes sent to a gone end vanish (a socket's peer sees EOF, then its writes fail).
      if (peer.#queued === 0 && (!peer.#ending || peer.#finished)) return false;
      if (peer.#queued > 0) peer.#take(peer.#queued);
      if (peer.#ending && !peer.#finished) {
        peer.#finished = true;
        for (const callback of peer.#endCallbacks.splice(0)) callback();
        peer.#closeIfDone();
      }
      return true;
    }
    if (!this.#holding && this.#inboxBytes > 0) {
      this.emit("data", this.#takeInbox(cut(this.#inbox[0]?.length ?? 0, this.#inboxBytes)));
      return true;
    }
    if (peer.#queued > 0) {
      let n = Math.min(cut(peer.#queue[0]?.data.length ?? 0, peer.#queued), window);
      if (this.#holding) n = Math.min(n, window - this.#inboxBytes);
      if (n <= 0) return false;
      const chunk = peer.#take(n);
      if (this.#holding) {
        this.#inbox.push(chunk);
        this.#inboxBytes += chunk.length;
      } else {
        this.emit("data", chunk);
      }
      return true;
    }
    if (peer.#ending && !peer.#finished) {
      peer.#finished = true;
      for (const callback of peer.#endCallbacks.splice(0)) callback();
      peer.#closeIfDone();
      return true;
    }
    if (peer.#finished && !this.#eofDelivered && !this.#holding && this.#inboxBytes === 0) {
      this.#eofDelivered = true;
      this.emit("end");
      this.#closeIfDone();
      return true;
    }
    return false;
  }

  #closeIfDone(): void {
    if (this.#eofDelivered && this.#finished && !this.#destroyed) this.destroy();
  }

  /** Takes `n` bytes off the head of this end's writes, calling back the writes now wholly taken. */
  #take(n: number): Buffer {
    const parts: Buffer[] = [];
    const done: Callback[] = [];
    let left = n;
    while (left > 0) {
      const head = this.#queue[0] as Write;
      if (head.data.length <= left) {
        this.#queue.shift();
        parts.push(head.data);
        left -= head.data.length;
        done.push(...head.callbacks);
      } else {
        parts.push(head.data.subarray(0, left));
        head.data = head.data.subarray(left);
        left = 0;
      }
    }
    this.#queued -= n;
    // After the bytes are out of the queue, as a socket's callback runs once the kernel took them.
    for (const callback of done) process.nextTick(callback);
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, n);
  }

  #takeInbox(n: number): Buffer {
    const parts: Buffer[] = [];
    let left = Math.min(n, this.#inboxBytes);
    const size = left;
    while (left > 0) {
      const head = this.#inbox[0] as Buffer;
      if (head.length <= left) {
        this.#inbox.shift();
        parts.push(head);
        left -= head.length;
      } else {
        parts.push(head.subarray(0, left));
        this.#inbox[0] = head.subarray(left);
        left = 0;
      }
    }
    this.#inboxBytes -= size;
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
  }
}
