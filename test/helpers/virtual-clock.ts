/**
 * A virtual clock for tests: time moves only when the test says so.
 *
 * @module
 */

import type { Clock, ClockTimer } from "../../src/protocols/clock.js";

interface VirtualTimer {
  at: number;
  seq: number;
  callback: (() => void) | undefined;
}

/** Lets pending promise callbacks and I/O callbacks run (two turns of the event loop). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/**
 * A {@link Clock} whose time starts at 1000 ms and moves only through
 * {@link VirtualClock.advance}: timers due within the advance fire in order of
 * due time (then of scheduling), each with `now()` at its due time, and the
 * event loop turns between them so that promises and socket callbacks settle.
 */
export class VirtualClock implements Clock {
  #now = 1000;
  #seq = 0;
  #timers: VirtualTimer[] = [];

  now(): number {
    return this.#now;
  }

  schedule(delay: number, callback: () => void): ClockTimer {
    if (!(delay >= 0)) throw new RangeError(`Invalid delay: ${delay}`);
    const timer: VirtualTimer = { at: this.#now + delay, seq: this.#seq++, callback };
    this.#timers.push(timer);
    return timer;
  }

  cancel(timer: ClockTimer): void {
    const t = timer as VirtualTimer;
    t.callback = undefined;
    this.#timers = this.#timers.filter((other) => other !== t);
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Moves time `ms` forward, firing every timer due by then (those they
   * schedule included) in order, settling the event loop before the first
   * and after each.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (;;) {
      let next: VirtualTimer | undefined;
      for (const t of this.#timers) {
        if (
          t.at <= end &&
          (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))
        ) {
          next = t;
        }
      }
      if (next === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.at);
      const callback = next.callback;
      next.callback = undefined;
      callback?.();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  /** Advances in steps of `step` ms until `predicate()` holds; returns the time it took, or throws past `limit` ms. */
  async advanceUntil(predicate: () => boolean, step: number, limit: number): Promise<number> {
    const start = this.#now;
    while (!predicate()) {
      if (this.#now - start >= limit) {
        throw new Error(`Condition not met within ${limit} virtual ms`);
      }
      await this.advance(step);
    }
    return this.#now - start;
  }
}
