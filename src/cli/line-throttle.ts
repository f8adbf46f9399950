/**
 * At most one log line per interval, for the CLI's reports of what clients
 * can cause in bulk (refused connections, refused client certificates).
 *
 * @module
 */

/** Options of a {@link LineThrottle} (and of the reporters built on it). */
export interface LineThrottleOptions {
  /** The least time between two lines, in ms. Default 1000. */
  interval?: number;
  /** The clock, in ms (for tests). Default `performance.now`. */
  now?: () => number;
}

/**
 * Calls `write` at once when the last line is an interval old, else once the
 * interval is over (one unref'd timer, however many requests came meanwhile).
 * `write` returns whether it wrote a line: only a line starts the interval.
 */
export class LineThrottle {
  readonly #write: () => boolean;
  readonly #interval: number;
  readonly #now: () => number;
  #lastLine = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  constructor(write: () => boolean, options: LineThrottleOptions = {}) {
    this.#write = write;
    this.#interval = options.interval ?? 1000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** There is something to write: now, or when the interval is over. */
  request(): void {
    if (this.#timer !== undefined) return;
    const wait = this.#lastLine + this.#interval - this.#now();
    if (wait <= 0) {
      this.#flush();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, wait).unref();
  }

  /** Stops the timer and writes what is pending. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flush();
  }

  #flush(): void {
    if (this.#write()) this.#lastLine = this.#now();
  }
}
