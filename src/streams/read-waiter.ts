import { abortReason, ConcurrentReadError } from "../errors.js";
import { FlowControl } from "./flow-control.js";
import { SignalWatch } from "./signal-watch.js";

/** An async read's loop: any new data wakes it and it looks again itself. */
export const LOOP = 0;
/** `read(n)`, completed straight from `feedData` with up to `size` bytes. */
export const CHUNK = 1;
/** `readLine`, completed straight from `feedData` with a line. */
export const LINE = 2;
/** A line server's wait: `feedData` hands it whole lines itself (see `StreamReader.waitLines`). */
export const LINES = 3;
/** A chunk loop's wait: `feedData` hands it each arrival itself (see `StreamReader.waitChunks`). */
export const CHUNKS = 4;
/** No read in progress. */
const NONE = -1;

/** What kind of read is in progress (CPython's `_waiter`). */
export type ReadKind = typeof LOOP | typeof CHUNK | typeof LINE | typeof LINES | typeof CHUNKS;

/** Options of a single read. */
export interface ReadOptions {
  /** Cancels the read while it waits. Buffered data is kept: a cancelled read consumes nothing. */
  signal?: AbortSignal | undefined;
}

type Resolve = (value: Buffer | PromiseLike<Buffer> | undefined) => void;

/**
 * @internal The waiting side of a `StreamReader`, as its base (so that the
 * one read in progress is a few fields of the reader's object, not two
 * objects of its own: measured, 112 bytes of an idle stream connection): the
 * read in progress and its wait, the abort signal the reader is registered
 * with, and the error that fails every read. It knows nothing of bytes: the
 * reader decides when a read is complete and settles it.
 *
 * A LOOP read stays in progress between its waits (from `beginLoop_` to
 * `endLoop_`), which is what refuses a second read started while the
 * first's continuation is still queued. CHUNK and LINE reads exist only
 * while they wait.
 */
export abstract class ReadWaiter extends FlowControl {
  #kind: ReadKind | typeof NONE = NONE;
  // CHUNK: the most bytes to return.
  #size = 0;
  // The read's options, kept for the waits of a LOOP and for a LINE that falls back to one.
  #options: ReadOptions | undefined;
  // Set while the read waits.
  #resolve: Resolve | undefined;
  #reject: ((error: Error) => void) | undefined;
  // The signal registered with; it outlives a read (see SignalWatch).
  #watched: AbortSignal | undefined;
  #exception: Error | undefined;

  // A watched signal aborted: cancels the wait if it is the one waiting on it.
  static readonly #watch = new SignalWatch<ReadWaiter>((waiter, signal) => {
    if (waiter.#resolve !== undefined && waiter.#options?.signal === signal) {
      waiter.settle_(abortReason(signal));
    }
  });

  /** Makes every later read (and the waiting one) reject with `error`. */
  setException(error: Error): void {
    this.#exception = error;
    this.unwatch_();
    this.settle_(error);
  }

  /** The error given to `setException`, if any. */
  exception(): Error | undefined {
    return this.#exception;
  }

  /** @internal Whether a read is in progress. */
  protected get reading_(): boolean {
    return this.#kind !== NONE;
  }

  /** @internal Whether a read is in progress or `setException` was called: no fast path then. */
  protected get busy_(): boolean {
    return this.#kind !== NONE || this.#exception !== undefined;
  }

  /** @internal The kind of the read that waits now, or `undefined`. */
  protected get waitingKind_(): ReadKind | undefined {
    return this.#resolve === undefined || this.#kind === NONE ? undefined : this.#kind;
  }

  /** @internal CHUNK: the most bytes the waiting read returns. */
  protected get waitingSize_(): number {
    return this.#size;
  }

  /** @internal The options of the read in progress. */
  protected get readOptions_(): ReadOptions | undefined {
    return this.#options;
  }

  /** @internal Refuses a read while another is in progress, or after `setException`. */
  protected check_(method: string): void {
    if (this.#kind !== NONE) throw new ConcurrentReadError(method);
    if (this.#exception !== undefined) throw this.#exception;
  }

  /** @internal Starts an async read's loop (LOOP); its `finally` ends it (`endLoop_`). */
  protected beginLoop_(method: string, options: ReadOptions | undefined): void {
    this.check_(method);
    this.#kind = LOOP;
    this.#size = 0;
    this.#options = options;
  }

  /** @internal Finishes the LOOP read (its `finally`). */
  protected endLoop_(): void {
    this.#kind = NONE;
    this.#options = undefined;
  }

  /** @internal Waits for more data (or EOF) in an async read's loop; the loop looks again. */
  protected async wait_(): Promise<void> {
    await this.request_(LOOP, 0, this.#options);
  }

  /**
   * @internal Makes the read in progress (or a new CHUNK / LINE read) wait
   * until `settle_`. An already aborted signal rejects at once.
   */
  protected request_(kind: ReadKind, size: number, options?: ReadOptions): Promise<Buffer> {
    if (this.#exception !== undefined) return Promise.reject(this.#exception);
    // Waiting means the buffer does not hold what the read needs: let data in again.
    this.resumeFlow_();
    const signal = options?.signal;
    if (signal !== undefined) {
      if (signal.aborted) return Promise.reject(abortReason(signal));
      if (signal !== this.#watched) {
        this.unwatch_();
        this.#watched = signal;
        ReadWaiter.#watch.add(signal, this);
      }
    }
    if (this.#kind === NONE) {
      this.#kind = kind;
      this.#size = size;
      this.#options = options;
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.#resolve = resolve as Resolve;
      this.#reject = reject;
    });
  }

  /** @internal Ends the wait, if any: with `error`, with `value`, or with what `then` returns. */
  protected settle_(error?: Error, value?: Buffer, then?: () => Promise<Buffer>): void {
    const resolve = this.#resolve;
    const reject = this.#reject;
    if (resolve === undefined || reject === undefined) return;
    this.#resolve = undefined;
    this.#reject = undefined;
    // A LOOP read goes on after its wait and ends in its own `finally`.
    if (this.#kind !== LOOP) {
      this.#kind = NONE;
      this.#options = undefined;
    }
    if (error !== undefined) reject(error);
    else resolve(then === undefined ? value : then());
  }

  /** @internal Leaves the signal registered with (at EOF or an error, nothing will wait on it). */
  protected unwatch_(): void {
    if (this.#watched !== undefined) ReadWaiter.#watch.remove(this.#watched, this);
    this.#watched = undefined;
  }
}
