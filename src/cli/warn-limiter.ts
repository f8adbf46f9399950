/**
 * Warn lines for an event that clients can cause in bulk (a refused client
 * certificate), at most one a second.
 *
 * @module
 */

import type { Logger } from "../apps/logger.js";
import { LineThrottle, type LineThrottleOptions } from "./line-throttle.js";

/**
 * Writes the first warning at once; those that come within the interval after
 * a line are held, and when it is over the last of them is written, saying how
 * many more it stands for: `... (4 more since the last report)`. A flood costs
 * a line a second, and the last event of a burst is never lost. The timer that
 * writes the held line is unref'd; {@link close} writes it at once.
 */
export class WarnLimiter {
  readonly #throttle: LineThrottle;
  #held: { logger: Logger; text: string } | undefined;
  #heldCount = 0;

  constructor(options: LineThrottleOptions = {}) {
    this.#throttle = new LineThrottle(() => this.#write(), options);
  }

  /** Warns `text` on `logger`, now or once the interval is over. */
  warn(logger: Logger, text: string): void {
    this.#held = { logger, text };
    this.#heldCount++;
    this.#throttle.request();
  }

  /** Stops the timer and writes what is held. */
  close(): void {
    this.#throttle.close();
  }

  #write(): boolean {
    const held = this.#held;
    if (held === undefined) return false;
    const more = this.#heldCount - 1;
    held.logger.warn(more > 0 ? `${held.text} (${more} more since the last report)` : held.text);
    this.#held = undefined;
    this.#heldCount = 0;
    return true;
  }
}
