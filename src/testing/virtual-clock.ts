/**
 * A virtual clock for tests: time moves only when the test says so.
 *
 * @module
 */

import type { Clock, ClockTimer } from "../protocols/clock.js";

interface VirtualTimer {
  at: number;
  seq: number;
  callback: (() => void) | undefined;
}

/** Event-loop turns let run before and after each timer: enough for a reply to cross a pair and come back. */
const SETTLE_TURNS = 6;

/**
 * Lets pending promise callbacks, in-memory deliveries and I/O callbacks run
 * (a few turns of the event loop; each `setImmediate` turn also runs the
 * microtasks queued in it).
 */
export async function settle(turns = SETTLE_TURNS): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Options of {@link VirtualClock.runAll}. */
export interface RunAllOptions {
  /** The most timers fired before giving up with an error (a timer that always schedules another). Default 10,000. */
  limit?: number;
}

/**
 * A {@link Clock} whose time starts at 1000 ms and moves only through
 * {@link VirtualClock.advance} (or {@link VirtualClock.runAll}): timers due
 * within the advance fire in order of due time (then of scheduling), each with
 * `now()` at its due time, and the event loop turns between them so that
 * promises, in-memory deliveries and socket callbacks settle.
 *
 * Pass it as the `clock` option of a server, a connection, `serveLines`,
 * `createConnectionPair` or `serveInMemory`: every timeout of the library
 * then runs in virtual time, so a 300 s idle timeout is tested in
 * milliseconds.
 *
 * @example
 * ```ts
 * const clock = createVirtualClock();
 * let fired = false;
 * clock.schedule(300_000, () => (fired = true));
 * await clock.advance(299_999); // fired === false
 * await clock.advance(1); // fired === true
 * ```
 */
export class VirtualClock implements Clock {
  #now = 1000;
  #seq = 0;
  #timers: VirtualTimer[] = [];

  /** The virtual time in ms; starts at 1000, moves only on `advance` / `runAll`. */
  now(): number {
    return this.#now;
  }

  /**
   * Schedules `callback` at `now() + delay`. A delay of 0 fires on the next
   * `advance` (even `advance(0)`).
   * @throws {RangeError} when `delay` is negative or not a number.
   */
  schedule(delay: number, callback: () => void): ClockTimer {
    if (!(delay >= 0)) throw new RangeError(`Invalid delay: must be at least 0, got ${delay}`);
    const timer: VirtualTimer = { at: this.#now + delay, seq: this.#seq++, callback };
    this.#timers.push(timer);
    return timer;
  }

  /** Stops `timer` if it has not fired; does nothing otherwise (or for a timer of another clock). */
  cancel(timer: ClockTimer): void {
    const t = timer as VirtualTimer;
    t.callback = undefined;
    this.#timers = this.#timers.filter((other) => other !== t);
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.length;
  }

  /** The due time of the next timer, or `undefined` when none is pending. */
  get nextAt(): number | undefined {
    return this.#next(Number.POSITIVE_INFINITY)?.at;
  }

  #next(end: number): VirtualTimer | undefined {
    let next: VirtualTimer | undefined;
    for (const t of this.#timers) {
      if (
        t.at <= end &&
        (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))
      ) {
        next = t;
      }
    }
    return next;
  }

  #fire(timer: VirtualTimer): void {
    this.#timers = this.#timers.filter((t) => t !== timer);
    this.#now = Math.max(this.#now, timer.at);
    const callback = timer.callback;
    timer.callback = undefined;
    callback?.();
  }

  /**
   * Moves time `ms` forward, firing every timer due by then (those they
   * schedule included) in order, settling the event loop before the first
   * and after each. `now()` is `start + ms` when it resolves.
   * @throws {RangeError} when `ms` is negative or not a number.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`Invalid advance: must be at least 0 ms, got ${ms}`);
    const end = this.#now + ms;
    await settle();
    for (;;) {
      const next = this.#next(end);
      if (next === undefined) break;
      this.#fire(next);
      await settle();
    }
    this.#now = end;
    await settle();
  }

  /**
   * Fires every pending timer, and those they schedule, in order, moving
   * time to each one's due time, until none is left.
   * @throws {Error} when more than `limit` timers fired (a timer that always schedules another).
   */
  async runAll(options: RunAllOptions = {}): Promise<void> {
    const limit = options.limit ?? 10_000;
    await settle();
    for (let fired = 0; ; fired++) {
      const next = this.#next(Number.POSITIVE_INFINITY);
      if (next === undefined) return;
      if (fired >= limit) {
        throw new Error(
          `Cannot run all timers: still ${this.#timers.length} pending after ${limit} fired`,
        );
      }
      this.#fire(next);
      await settle();
    }
  }

  /**
   * Advances in steps of `step` ms until `predicate()` holds; returns the
   * virtual time it took.
   * @throws {Error} when it does not hold within `limit` virtual ms.
   */
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

/**
 * A new {@link VirtualClock}, at 1000 ms with no timer.
 *
 * @example
 * ```ts
 * const clock = createVirtualClock();
 * const server = serveInMemory(handler, { idleTimeout: 300_000, clock });
 * const client = await server.connect();
 * await clock.advance(300_000 + 30_000); // the idle close has happened
 * ```
 */
export function createVirtualClock(): VirtualClock {
  return new VirtualClock();
}
