/**
 * At most one report a second of a kind of event that clients can cause in
 * bulk (accept errors, refused PROXY headers, refused client certificates), so
 * that a flood costs a line a second in the logs, not a line per connection.
 *
 * @module
 */

/** The interval between two reports of one kind, in ms. */
export const REPORT_INTERVAL_MS = 1000;

/**
 * Lets one report through per {@link REPORT_INTERVAL_MS} and counts the
 * events it holds back in between, for the next report to say how many.
 */
export class ReportLimiter {
  #last = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  /**
   * An event at `now` (ms, any monotonic clock): the suffix for its report,
   * `""` or `" (N more since the last report)"`, or `undefined` when it is held
   * back (counted for the next one).
   */
  take(now: number): string | undefined {
    if (now - this.#last < REPORT_INTERVAL_MS) {
      this.#suppressed++;
      return undefined;
    }
    const suppressed = this.#suppressed;
    this.#last = now;
    this.#suppressed = 0;
    return suppressed > 0 ? ` (${suppressed} more since the last report)` : "";
  }
}
