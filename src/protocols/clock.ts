/**
 * The one clock every timer of the library goes through (idle, line deadline,
 * connect, TLS handshake, close linger, shutdown grace), so that a virtual
 * clock can drive them in tests.
 *
 * @module
 */

/** A timer made by {@link Clock.schedule}; opaque, only given back to {@link Clock.cancel}. */
export type ClockTimer = object;

/**
 * Time as the library sees it: a monotonic `now()` in milliseconds, and
 * one-shot timers. The default, {@link systemClock}, is Node's timers; a test
 * passes a virtual clock as the `clock` option of servers and connections.
 *
 * Contract for implementations:
 * - `now()` never goes backwards; its origin is arbitrary.
 * - `schedule(delay, callback)` calls `callback` once, no earlier than `delay`
 *   ms after the call (`delay` from 0 to 2³¹ − 1); timers due at the same time
 *   fire in the order they were scheduled. Timers must not keep the process
 *   alive on their own (Node's are `unref`'d): a server's sockets do that.
 * - `cancel(timer)` stops a timer that has not fired; cancelling one that
 *   fired or was cancelled does nothing.
 */
export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Calls `callback` once, `delay` ms from now. */
  schedule(delay: number, callback: () => void): ClockTimer;
  /** Stops `timer` if it has not fired yet. */
  cancel(timer: ClockTimer): void;
}

/** Node's timers and `performance.now()`; timers are `unref`'d. */
export const systemClock: Clock = {
  now: () => performance.now(),
  schedule(delay, callback) {
    return setTimeout(callback, delay).unref();
  },
  cancel(timer) {
    clearTimeout(timer as NodeJS.Timeout);
  },
};
