/**
 * One timer for every line loop's slowloris guard.
 *
 * @module
 */

/** Something a {@link Sweeper} checks on each of its ticks. */
export interface Swept {
  /** Called every `period` ms while registered. */
  sweep(): void;
}

/**
 * Calls `sweep()` on every registered item every `period` ms, with one
 * unref'd timer for all of them that runs only while some are registered.
 *
 * The line loops share one per `lineTimeout` ({@link Sweeper.shared}): a timer
 * per connection cost more memory than the rest of an idle line connection's
 * state, and one tick over ten thousand idle connections costs less than a
 * millisecond every `lineTimeout / 2`.
 */
export class Sweeper {
  static readonly #shared = new Map<number, Sweeper>();
  readonly #period: number;
  readonly #items = new Set<Swept>();
  #timer: NodeJS.Timeout | undefined;

  /** `period` in ms, > 0. */
  constructor(period: number) {
    this.#period = period;
  }

  /** The sweeper every caller with the same `period` shares. */
  static shared(period: number): Sweeper {
    let sweeper = Sweeper.#shared.get(period);
    if (sweeper === undefined) {
      sweeper = new Sweeper(period);
      Sweeper.#shared.set(period, sweeper);
    }
    return sweeper;
  }

  /** How many items are registered. */
  get size(): number {
    return this.#items.size;
  }

  /** Registers `item`; the timer starts with the first. */
  add(item: Swept): void {
    this.#items.add(item);
    this.#timer ??= setInterval(() => this.#tick(), this.#period).unref();
  }

  /** Unregisters `item`; the timer stops with the last. */
  delete(item: Swept): void {
    this.#items.delete(item);
    if (this.#items.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #tick(): void {
    for (const item of this.#items) item.sweep();
  }
}
