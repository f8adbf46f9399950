/**
 * Warn lines for connections a server refused, at most one a second.
 *
 * @module
 */

import type { Logger } from "../apps/logger.js";

/** Why the server refused a connection: the name of the `ServerOptions` limit. */
export type DropReason = "maxConnections" | "maxConnectionsPerPeer";

/** Options of a {@link DropReporter}. */
export interface DropReporterOptions {
  /** How each reason is named in the warn line, e.g. `--max-connections 100`. */
  names: Record<DropReason, string>;
  /** The least time between two warn lines, in ms. Default 1000. */
  interval?: number;
  /** The clock, in ms (for tests). Default `performance.now`. */
  now?: () => number;
}

/**
 * Counts refused connections and logs them at warn level, at most one line
 * per `interval`: the first refusal at once, the ones after it within the
 * interval together, in one line when the interval is over:
 *
 *     main: WARN: refused 3 connection(s): 2 over --max-connections 100,
 *     1 over --max-per-peer 10 (last from 127.0.0.1)
 *
 * A flood of refusals costs a counter each, not a line each. The timer that
 * writes the deferred line is unref'd; {@link close} writes what is pending.
 */
export class DropReporter {
  readonly #logger: Logger;
  readonly #names: Record<DropReason, string>;
  readonly #interval: number;
  readonly #now: () => number;
  #counts: Record<DropReason, number> = { maxConnections: 0, maxConnectionsPerPeer: 0 };
  #total = 0;
  #lastPeer: string | undefined;
  #lastLine = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  constructor(logger: Logger, options: DropReporterOptions) {
    this.#logger = logger;
    this.#names = options.names;
    this.#interval = options.interval ?? 1000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Counts one refusal; `peer` is the refused client's address, when known. */
  drop(reason: DropReason, peer?: string): void {
    this.#counts[reason]++;
    this.#total++;
    if (peer !== undefined) this.#lastPeer = peer;
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

  /** Writes the pending count now, if any. */
  flush(): void {
    if (this.#total === 0) return;
    const parts = (Object.keys(this.#counts) as DropReason[])
      .filter((reason) => this.#counts[reason] > 0)
      .map((reason) => `${this.#counts[reason]} over ${this.#names[reason]}`);
    const from = this.#lastPeer === undefined ? "" : ` (last from ${this.#lastPeer})`;
    this.#logger.warn(`refused ${this.#total} connection(s): ${parts.join(", ")}${from}`);
    this.#counts = { maxConnections: 0, maxConnectionsPerPeer: 0 };
    this.#total = 0;
    this.#lastPeer = undefined;
    this.#lastLine = this.#now();
  }

  /** Stops the timer and writes what is pending. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.flush();
  }
}
