/**
 * Timeouts for many connections: one timer per timeout length, whatever the
 * number of connections it watches, and the one "nothing happened since the
 * last tick" detector of the library.
 *
 * @module
 */

import { type Clock, type ClockTimer, systemClock } from "./clock.js";

/**
 * The longest a Node timer can wait, in ms (2³¹ − 1, about 24.8 days). Node
 * turns a longer delay into 1 ms, so every timeout option is checked against it.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * How late past its timeout a timeout of `timeout` ms may fire, in ms:
 * max(`timeout` / 10, 50). Every library timeout fires within
 * `timeout + timeoutSlack(timeout)` of its start (of the last activity, for an
 * idle timeout), given an event loop that is not blocked.
 */
export function timeoutSlack(timeout: number): number {
  return Math.max(timeout / 10, 50);
}

/**
 * The tick of a {@link Sweeper} for `timeout`, in ms: a third of its slack.
 * A sign of life is seen at most one tick after it happened and a quiet item
 * expires at most one tick after its time, so two ticks of the slack are
 * spent and one is left for a late timer.
 */
export function sweepPeriod(timeout: number): number {
  return Math.max(1, Math.floor(timeoutSlack(timeout) / 3));
}

/**
 * The progress marker of a {@link Watched} item that is not being timed now.
 * An integer, not NaN: the sweeper keeps the last marker on the item, and a
 * field that once held NaN costs every item a heap number (16 bytes).
 */
export const NOT_TIMED = -1;

/** The progress marker of a {@link Watched} item. */
export const kProgress: unique symbol = Symbol("asyncnet.sweeper.progress");
/** Called when a {@link Watched} item timed out. */
export const kExpire: unique symbol = Symbol("asyncnet.sweeper.expire");
/** The sweeper's bookkeeping on a {@link Watched} item: the marker it last saw. */
export const kSeen: unique symbol = Symbol("asyncnet.sweeper.seen");
/** The sweeper's bookkeeping on a {@link Watched} item: when it last saw it change. */
export const kSeenAt: unique symbol = Symbol("asyncnet.sweeper.seenAt");

/**
 * What a {@link Sweeper} watches. The two bookkeeping fields live on the item
 * (two small integers) rather than in a map entry or a record of their own,
 * so that watching costs an idle connection nothing more than a set entry.
 */
export interface Watched {
  /**
   * A number that changes at every sign of life (a counter the hot path bumps,
   * a byte count): a small integer from 0, read once a tick. {@link NOT_TIMED}
   * means "not being timed now": the item cannot expire while it says so. A
   * constant makes a deadline counted from `add()`.
   */
  [kProgress](): number;
  /** Called once the item was quiet for the timeout, after it was unregistered. Must not throw. */
  [kExpire](): void;
  /** Only the sweeper writes it. */
  [kSeen]: number;
  /** Only the sweeper writes it. */
  [kSeenAt]: number;
}

/**
 * Expires registered items that showed no progress for `timeout` ms, with one
 * timer (through the {@link Clock}) for all of them, running only while some
 * are registered.
 *
 * The tick, every {@link sweepPeriod}: an item whose marker changed since the
 * last tick is stamped with the tick's time (the progress happened at or
 * before it, so the stamp is never early); one whose marker did not change
 * and whose stamp is `timeout` old expires. So an item expires no earlier than
 * `timeout` after its last progress (after `add()`, which stamps it exactly)
 * and at most two ticks later, within {@link timeoutSlack}.
 *
 * Why not a Node timer per connection, or a hashed timer wheel: a timer per
 * connection cost more memory than the rest of an idle line connection's state,
 * and re-arming it on every read and write showed in the echo profiles; a wheel
 * visits an item only at its deadline, so it needs the time of the last activity
 * written on the hot path, and cannot time progress that only shows when looked
 * at (bytes leaving the kernel's send queue). Measured on this machine (Node 20,
 * 4,000 idle TCP connections in one process, both ends): the heap per
 * connection was the same as with the two-quiet-ticks sweep it replaced
 * (2,252 to 2,283 bytes against 2,271 to 2,272, noise), and a tick over them
 * took a median 0.33 ms. The tick runs every T / 30 (at least every 16 ms):
 * for the CLI's 300 s idle timeout one tick every 10 s.
 */
export class Sweeper<T extends Watched> {
  readonly #timeout: number;
  readonly #period: number;
  readonly #clock: Clock;
  readonly #items = new Set<T>();
  // Stamps are ms since this origin, so that they stay small integers (no heap number per item).
  #origin = 0;
  #timer: ClockTimer | undefined;
  readonly #tick = () => this.#sweep();

  /**
   * `timeout` in ms, an integer from 1 to {@link MAX_TIMEOUT_MS}.
   * @throws {RangeError} for any other timeout.
   */
  constructor(timeout: number, clock: Clock = systemClock) {
    if (!Number.isSafeInteger(timeout) || timeout < 1 || timeout > MAX_TIMEOUT_MS) {
      throw new RangeError(
        `Invalid timeout: must be an integer in 1..${MAX_TIMEOUT_MS} ms, got ${timeout}`,
      );
    }
    this.#timeout = timeout;
    this.#period = sweepPeriod(timeout);
    this.#clock = clock;
  }

  /** How many items are registered. */
  get size(): number {
    return this.#items.size;
  }

  /** Registers `item`, stamped now; the timer starts with the first. Registering it again restamps it. */
  add(item: T): void {
    if (this.#items.size === 0) this.#origin = Math.floor(this.#clock.now());
    item[kSeen] = item[kProgress]();
    item[kSeenAt] = Math.ceil(this.#clock.now() - this.#origin);
    this.#items.add(item);
    this.#timer ??= this.#clock.schedule(this.#period, this.#tick);
  }

  /** Unregisters `item`; the timer stops with the last. */
  delete(item: T): void {
    if (!this.#items.delete(item) || this.#items.size > 0 || this.#timer === undefined) return;
    this.#clock.cancel(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = this.#clock.now() - this.#origin;
    const stamp = Math.ceil(now);
    const timeout = this.#timeout;
    for (const item of this.#items) {
      const progress = item[kProgress]();
      if (progress === NOT_TIMED || progress !== item[kSeen]) {
        item[kSeen] = progress;
        item[kSeenAt] = stamp;
      } else if (now - item[kSeenAt] >= timeout) {
        this.#items.delete(item);
        item[kExpire]();
      }
    }
    if (this.#items.size > 0) this.#timer ??= this.#clock.schedule(this.#period, this.#tick);
  }
}

/** One {@link Sweeper} per clock and timeout, made on first use. */
export class SweeperPool<T extends Watched> {
  readonly #byClock = new WeakMap<Clock, Map<number, Sweeper<T>>>();

  /** The pool's sweeper for `timeout` ms on `clock`. */
  get(timeout: number, clock: Clock = systemClock): Sweeper<T> {
    let byTimeout = this.#byClock.get(clock);
    if (byTimeout === undefined) {
      byTimeout = new Map();
      this.#byClock.set(clock, byTimeout);
    }
    let sweeper = byTimeout.get(timeout);
    if (sweeper === undefined) {
      sweeper = new Sweeper(timeout, clock);
      byTimeout.set(timeout, sweeper);
    }
    return sweeper;
  }
}
