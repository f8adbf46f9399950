/**
 * The wire of an in-memory connection: two {@link MemoryStream}s (each a
 * `TransportStream`) and the bytes in flight between them, delivered at once
 * or when the test says, cut as the test says, through a window the test sets.
 *
 * @module
 */

import { EventEmitter } from "node:events";
import type { TransportStream } from "../protocols/transport-stream.js";
import { type Chunking, type Cutter, cutter } from "./chunking.js";

/** `"auto"`: bytes move on the next turn of the event loop; `"manual"`: only on `pump()` / `flush()`. */
export type Delivery = "auto" | "manual";

/** Options of a `MemoryLink`. */
export interface LinkOptions {
  /** Default `"auto"`. */
  delivery?: Delivery;
  /** Default `"whole"`. */
  chunking?: Chunking;
  /**
   * The receiving window, in bytes, of each end: while an end's reading is
   * paused, at most this many bytes wait for it; beyond that the sender's
   * writes stay unsent (its `writableLength` grows, so its transport pauses
   * writing, as over a socket whose peer stopped reading). Also the largest
   * chunk delivered at once. Default: unlimited.
   */
  window?: number;
}

interface Write {
  data: Buffer;
  callbacks: ((error?: Error | null) => void)[];
}

const AUTO_STEPS = 10_000;

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

/**
 * The two streams of one in-memory connection and the delivery between them.
 * `createConnectionPair` wraps it in two `ConnectionEnd`s.
 */
export class MemoryLink {
  readonly a: MemoryStream;
  readonly b: MemoryStream;
  readonly delivery: Delivery;
  readonly #cut: Cutter;
  readonly #window: number;
  #scheduled = false;

  /**
   * @throws {RangeError} when `window` is not a positive integer, or for a bad `chunking`.
   * @throws {TypeError} when `delivery` is not `"auto"` or `"manual"`.
   */
  constructor(options: LinkOptions = {}) {
    const { delivery = "auto", window = Number.POSITIVE_INFINITY } = options;
    if (delivery !== "auto" && delivery !== "manual") {
      throw new TypeError(`Invalid delivery: expected "auto" or "manual", got ${String(delivery)}`);
    }
    if (window !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(window) || window <= 0)) {
      throw new RangeError(`Invalid window: must be a positive integer, got ${window}`);
    }
    this.delivery = delivery;
    this.#cut = cutter(options.chunking);
    this.#window = window;
    this.a = new MemoryStream(this);
    this.b = new MemoryStream(this);
    this.a.peer = this.b;
    this.b.peer = this.a;
  }

  /** @internal Something may move: in auto delivery, move it on the next turn. */
  schedule(): void {
    if (this.delivery !== "auto" || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      // A bounded burst per turn: two protocols that answer each other forever
      // keep the event loop (and the test's timeouts) turning.
      if (this.#run(AUTO_STEPS) === AUTO_STEPS) this.schedule();
    });
  }

  /** Moves one chunk (or EOF) in each direction, if one can move. Returns whether anything did. */
  pump(): boolean {
    const toB = this.b.step(this.#cut, this.#window);
    const toA = this.a.step(this.#cut, this.#window);
    return toA || toB;
  }

  #run(limit: number): number {
    let steps = 0;
    while (steps < limit && this.pump()) steps++;
    return steps;
  }

  /**
   * Delivers until nothing moves any more, letting promises and timers of
   * zero delay settle between bursts (so handlers answer, and their answers
   * are delivered too). Stops where a paused reader with a full window holds
   * the rest: that is a state, not a failure.
   * @throws {Error} after `limit` deliveries (default 100,000) without coming to rest.
   */
  async flush(limit = 100_000): Promise<void> {
    let steps = 0;
    let quiet = 0;
    // Two quiet turns in a row: a reply scheduled from an immediate is seen too.
    while (quiet < 2) {
      const moved = this.#run(limit - steps + 1);
      steps += moved;
      if (steps > limit) {
        throw new Error(
          `Cannot flush: still delivering after ${limit} chunks ` +
            `(${this.a.pendingBytes} bytes pending to a, ${this.b.pendingBytes} to b)`,
        );
      }
      quiet = moved === 0 ? quiet + 1 : 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
