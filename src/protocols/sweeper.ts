/**
 * Coarse timers for many connections: one timer per period, whatever the
 * number of connections it watches.
 *
 * @module
 */

/**
 * The longest a Node timer can wait, in ms (2³¹ − 1, about 24.8 days). Node
 * turns a longer delay into 1 ms, so every timeout option is checked against it.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Calls `visit(item)` for every registered item every `period` ms, with one
 * unref'd timer for all of them that runs only while some are registered.
 *
 * What a connection needs from a timeout that can be late by half its length
 * (the idle timeout, the line servers' slowloris guard) costs it a set entry
 * and a counter this way: a Node timer per connection cost more memory than
 * the rest of an idle line connection's state, and refreshing it on every read
 * and write showed in the profile. A tick over ten thousand connections costs
 * less than a millisecond.
 *
 * The usual check, done by `visit`: an item whose activity counter has not
 * moved for two ticks in a row has been quiet for at least `2 × period`, and
 * is caught at most `3 × period` after its last activity.
 */
export class Sweeper<T> {
  readonly #period: number;
  readonly #visit: (item: T) => void;
  readonly #items = new Set<T>();
  #timer: NodeJS.Timeout | undefined;

  /**
   * `period` in ms, an integer from 1 to {@link MAX_TIMEOUT_MS}. `visit` must not throw.
   * @throws {RangeError} for any other period.
   */
  constructor(period: number, visit: (item: T) => void) {
    if (!Number.isSafeInteger(period) || period < 1 || period > MAX_TIMEOUT_MS) {
      throw new RangeError(
        `Invalid sweep period: must be an integer in 1..${MAX_TIMEOUT_MS} ms, got ${period}`,
      );
    }
    this.#period = period;
    this.#visit = visit;
  }

  /** How many items are registered. */
  get size(): number {
    return this.#items.size;
  }

  /** Registers `item`; the timer starts with the first. */
  add(item: T): void {
    this.#items.add(item);
    this.#timer ??= setInterval(() => this.#tick(), this.#period).unref();
  }

  /** Unregisters `item`; the timer stops with the last. */
  delete(item: T): void {
    this.#items.delete(item);
    if (this.#items.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #tick(): void {
    const visit = this.#visit;
    for (const item of this.#items) visit(item);
  }
}

/** One {@link Sweeper} per period, all with the same `visit`. */
export class SweeperPool<T> {
  readonly #visit: (item: T) => void;
  readonly #byPeriod = new Map<number, Sweeper<T>>();

  constructor(visit: (item: T) => void) {
    this.#visit = visit;
  }

  /** The pool's sweeper for `period` ms, made on first use. */
  get(period: number): Sweeper<T> {
    let sweeper = this.#byPeriod.get(period);
    if (sweeper === undefined) {
      sweeper = new Sweeper(period, this.#visit);
      this.#byPeriod.set(period, sweeper);
    }
    return sweeper;
  }
}
