/**
 * One abort listener per signal for every watcher, not one per watcher or per
 * wait: a server passes the same shutdown signal to every read, adding and
 * removing a listener on each wait showed in the profile, and a listener per
 * reader (its entry and closure) was a tenth of an idle stream connection's
 * heap. A watcher stays registered until it is removed (a reader: at EOF or an
 * error, or when it waits on another signal).
 */
export class SignalWatch<T extends object> {
  readonly #watchers = new WeakMap<AbortSignal, Set<T>>();
  readonly #onAbort: (watcher: T, signal: AbortSignal) => void;

  /** `onAbort` is called for each watcher of a signal when it aborts. */
  constructor(onAbort: (watcher: T, signal: AbortSignal) => void) {
    this.#onAbort = onAbort;
  }

  /** Registers `watcher` with `signal` (once; adding it again changes nothing). */
  add(signal: AbortSignal, watcher: T): void {
    let watchers = this.#watchers.get(signal);
    if (watchers === undefined) {
      const all = new Set<T>();
      watchers = all;
      this.#watchers.set(signal, all);
      const onAbort = this.#onAbort;
      signal.addEventListener(
        "abort",
        () => {
          for (const each of all) onAbort(each, signal);
        },
        { once: true },
      );
    }
    watchers.add(watcher);
  }

  /** Unregisters `watcher` from `signal`; harmless if it was not registered. */
  remove(signal: AbortSignal, watcher: T): void {
    this.#watchers.get(signal)?.delete(watcher);
  }
}
