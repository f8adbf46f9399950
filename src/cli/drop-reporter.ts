/**
 * Warn lines for connections a server refused, at most one a second.
 *
 * @module
 */

import type { Logger } from "../apps/logger.js";
import { LineThrottle, type LineThrottleOptions } from "./line-throttle.js";

/** Why the server refused a connection: the name of the `ServerOptions` limit. */
export type DropReason = "maxConnections" | "maxConnectionsPerPeer";

/** Options of a {@link DropReporter}. */
export interface DropReporterOptions extends LineThrottleOptions {
  /** How each reason is named in the warn line, e.g. `--max-connections 100`. */
  names: Record<DropReason, string>;
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
  readonly #throttle: LineThrottle;
  #counts: Record<DropReason, number> = { maxConnections: 0, maxConnectionsPerPeer: 0 };
  #total = 0;
  #lastPeer: string | undefined;

  constructor(logger: Logger, options: DropReporterOptions) {
    this.#logger = logger;
    this.#names = options.names;
    this.#throttle = new LineThrottle(() => this.#write(), options);
  }

  /** Counts one refusal; `peer` is the refused client's address, when known. */
  drop(reason: DropReason, peer?: string): void {
    this.#counts[reason]++;
    this.#total++;
    if (peer !== undefined) this.#lastPeer = peer;
    this.#throttle.request();
  }

  /** Stops the timer and writes what is pending. */
  close(): void {
    this.#throttle.close();
  }

  #write(): boolean {
    if (this.#total === 0) return false;
    const parts = (Object.keys(this.#counts) as DropReason[])
      .filter((reason) => this.#counts[reason] > 0)
      .map((reason) => `${this.#counts[reason]} over ${this.#names[reason]}`);
    const from = this.#lastPeer === undefined ? "" : ` (last from ${this.#lastPeer})`;
    this.#logger.warn(`refused ${this.#total} connection(s): ${parts.join(", ")}${from}`);
    this.#counts = { maxConnections: 0, maxConnectionsPerPeer: 0 };
    this.#total = 0;
    this.#lastPeer = undefined;
    return true;
  }
}
