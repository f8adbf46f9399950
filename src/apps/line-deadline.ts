/**
 * The slowloris guard of the line loop: a line that has begun must end in time.
 *
 * @module
 */

import { TimeoutError } from "../errors.js";
import type { StreamReader } from "../streams/stream-reader.js";

/** Seconds as the messages write them: `30`, `0.5`. */
function seconds(ms: number): string {
  return String(ms / 1000);
}

/**
 * Fails a line loop's waiting read with a {@link TimeoutError} once a line has
 * stayed incomplete for `timeout` ms: bytes buffered without their `\n` while
 * the loop waits for the rest.
 *
 * The reader has no "some bytes arrived" event, and arming a timer for each
 * line would put a timer on the hot path, so this is one timer per connection
 * that ticks every `timeout / 2` ms while it lives, and costs the loop two
 * field writes per wait. A partial line seen at one tick and still there, in
 * the same wait, two ticks later began at least `timeout` ago: the connection
 * is closed between `timeout` and 1.5 × `timeout` after the line's first
 * byte, never sooner. A line that ends ends the wait, so the next line is
 * measured from scratch.
 *
 * One imprecision: the reader does not say whether it is still discarding an
 * over-long line. The loop assumes so when the error left nothing buffered,
 * which is wrong only when that line's `\n` was the last byte received: then
 * a silence of `timeout` after it closes the connection as a line unfinished.
 *
 * Make one lazily, at the loop's first wait: a connection answered from one
 * burst never pays for it. The timer is unref'd; call {@link stop} when the
 * loop ends.
 */
export class LineDeadline {
  readonly #reader: StreamReader;
  readonly #timeout: number;
  readonly #timer: NodeJS.Timeout;
  #wait = 0;
  #waiting = false;
  #discarding = false;
  #seenWait = -1;
  #ticks = 0;

  /** `timeout` in ms, > 0. */
  constructor(reader: StreamReader, timeout: number) {
    this.#reader = reader;
    this.#timeout = timeout;
    this.#timer = setTimeout(() => this.#tick(), Math.ceil(timeout / 2)).unref();
  }

  /**
   * The loop starts waiting for a line. `discarding`: the reader is dropping
   * the rest of an over-long line, which counts as a line begun although
   * nothing is buffered.
   */
  begin(discarding: boolean): void {
    this.#wait++;
    this.#waiting = true;
    this.#discarding = discarding;
  }

  /** The wait ended: with a line, an error, or for the loop to write. */
  end(): void {
    this.#waiting = false;
  }

  /** Stops the timer. */
  stop(): void {
    clearTimeout(this.#timer);
  }

  #tick(): void {
    if (this.#waiting && (this.#discarding || this.#reader.bufferedSize > 0)) {
      if (this.#seenWait !== this.#wait) {
        this.#seenWait = this.#wait;
        this.#ticks = 0;
      } else if (++this.#ticks >= 2) {
        const message = `Connection closed: line not completed within ${seconds(this.#timeout)} s`;
        this.#reader.setException(new TimeoutError(message));
        return;
      }
    } else {
      this.#seenWait = -1;
    }
    this.#timer.refresh();
  }
}
