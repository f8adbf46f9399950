import { abortReason } from "../errors.js";
import { SignalWatch } from "./signal-watch.js";

/** An async read's loop: any new data wakes it and it looks again itself. */
export const LOOP = 0;
/** `read(n)`, completed straight from `feedData` with up to `size` bytes. */
export const CHUNK = 1;
/** `readLine`, completed straight from `feedData` with a line. */
export const LINE = 2;

/** The one read in progress (CPython's `_waiter`); `resolve` is set while it waits. */
export interface PendingRead {
  readonly kind: typeof LOOP | typeof CHUNK | typeof LINE;
  /** CHUNK: the most bytes to return. */
  readonly size: number;
  /** The read's options, kept for the waits of a LOOP and for a LINE that falls back to one. */
  readonly options: { signal?: AbortSignal | undefined } | undefined;
  /** The signal of the current wait. */
  signal: AbortSignal | undefined;
  resolve: ((value: Buffer | PromiseLike<Buffer> | undefined) => void) | undefined;
  reject: ((error: Error) => void) | undefined;
}

/**
 * The waiting side of a `StreamReader`: the one read in progress and its
 * wait, and the abort signal the reader is registered with. It knows nothing
 * of bytes: the reader decides when a read is complete and settles it.
 *
 * A LOOP read stays in progress between its waits (from `begin` to `end`),
 * which is what refuses a second read started while the first's continuation
 * is still queued. CHUNK and LINE reads exist only while they wait.
 */
export class ReadWaiter {
  #read: PendingRead | undefined;
  // The signal registered with; it outlives a read (see SignalWatch).
  #watched: AbortSignal | undefined;

  // A watched signal aborted: cancels the wait if it is the one waiting on it.
  static readonly #watch = new SignalWatch<ReadWaiter>((waiter, signal) => {
    if (waiter.#read?.signal === signal) waiter.settle(abortReason(signal));
  });

  /** The read in progress, if any. */
  get read(): PendingRead | undefined {
    return this.#read;
  }

  /** Starts a LOOP read; `end` finishes it. The caller has checked that none is in progress. */
  begin(options: PendingRead["options"]): void {
    this.#read = {
      kind: LOOP,
      size: 0,
      options,
      signal: undefined,
      resolve: undefined,
      reject: undefined,
    };
  }

  /** Finishes the LOOP read (its `finally`). */
  end(): void {
    this.#read = undefined;
  }

  /**
   * Makes the read in progress (or a new CHUNK / LINE read) wait until
   * `settle`. An already aborted signal rejects at once.
   */
  wait(kind: PendingRead["kind"], size: number, options: PendingRead["options"]): Promise<Buffer> {
    const signal = options?.signal;
    if (signal !== undefined) {
      if (signal.aborted) return Promise.reject(abortReason(signal));
      if (signal !== this.#watched) {
        this.unwatch();
        this.#watched = signal;
        ReadWaiter.#watch.add(signal, this);
      }
    }
    let read = this.#read;
    if (read === undefined) {
      read = { kind, size, options, signal, resolve: undefined, reject: undefined };
      this.#read = read;
    } else {
      read.signal = signal;
    }
    const pending = read;
    return new Promise<Buffer>((resolve, reject) => {
      pending.resolve = resolve as PendingRead["resolve"];
      pending.reject = reject;
    });
  }

  /** Ends the wait, if any: with `error`, with `value`, or with what `then` returns. */
  settle(error?: Error, value?: Buffer, then?: () => Promise<Buffer>): void {
    const read = this.#read;
    if (read === undefined) return;
    const { resolve, reject } = read;
    if (resolve === undefined || reject === undefined) return;
    read.resolve = undefined;
    read.reject = undefined;
    read.signal = undefined;
    // A LOOP read goes on after its wait and ends in its own `finally`.
    if (read.kind !== LOOP) this.#read = undefined;
    if (error !== undefined) reject(error);
    else resolve(then === undefined ? value : then());
  }

  /** Leaves the signal registered with (at EOF or an error, nothing will wait on it). */
  unwatch(): void {
    if (this.#watched !== undefined) ReadWaiter.#watch.remove(this.#watched, this);
    this.#watched = undefined;
  }
}
