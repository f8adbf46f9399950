/**
 * The wire of an in-memory connection: two {@link MemoryStream}s (each a
 * `TransportStream`) and the bytes in flight between them, delivered at once
 * or when the test says, cut as the test says, through a window the test sets.
 *
 * @module
 */

import { type Chunking, type Cutter, cutter } from "./chunking.js";
import { MemoryStream } from "./memory-stream.js";

// Kept importable from here, where it was first.
export { MemoryStream } from "./memory-stream.js";

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

const AUTO_STEPS = 10_000;

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
