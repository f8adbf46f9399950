/**
 * Warn lines for an event that clients can cause in bulk (a refused client
 * certificate), at most one a second.
 *
 * @module
 */

import type { Logger } from "../apps/logger.js";

/** Options of a {@link WarnLimiter}. */
export interface WarnLimiterOptions {
  /** The least time between two warn lines, in ms. Default 1000. */
  interval?: number;
  /** The clock, in ms (for tests). Default `performance.now`. */
  now?: () => number;
}

/**
 * Writes the first warning at once; those that come within the interval after
 * a line are held, and when it is over the last of them is written, saying how
 * many more it stands for: `... (4 more since the last report)`. A flood costs
 * a line a second, and the last event of a burst is never lost. The timer that
 * writes the held line is unref'd; {@link close} writes it at once.
 */
export class WarnLimiter {
  readonly #interval: number;
  readonly #now: () => number;
  #lastLine = Number.NEGATIVE_INFINITY;
  #held: { logger: Logger; text: string } | undefined;
  #heldCount = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: WarnLimiterOptions = {}) {
    this.#interval = options.interval ?? 1000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Warns `text` on `logger`, now or once the interval is over. */
  warn(logger: Logger, text: string): void {
    this.#held = { logger, text };
    this.#heldCount++;
    if (this.#timer !== undefined) return;
    const wait = this.#lastLine + this.#interval - this.#now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, wait).unref();
  }

  /** Writes the held warning now, if any. */
  flush(): void {
    const held = this.#held;
    if (held === undefined) return;
    const more = this.#heldCount - 1;
    held.logger.warn(more > 0 ? `${held.text} (${more} more since the last report)` : held.text);
    this.#held = undefined;
    this.#heldCount = 0;
    this.#lastLine = this.#now();
  }

  /** Stops the timer and writes what is held. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.flush();
  }
}
