/**
 * The messages a supervising primary and its workers exchange over the
 * cluster IPC channel. Every one carries `asyncnet` so that a program's own
 * messages on the same channel are left alone.
 *
 * @module
 */

import type { ServerStats } from "../protocols/server-stats.js";

/** Worker → primary: its server listens (and takes connections from the shared socket). */
export interface ListeningMessage {
  asyncnet: "listening";
  /** The addresses the worker's server listens on (`127.0.0.1:PORT`, `[::1]:PORT`). */
  addresses: string[];
}

/**
 * Worker → primary: its listening sockets are closed and it is about to
 * exit; primary → worker: `bye`, the answer. Connections the primary handed
 * over before it saw the close are still in the channel ahead of the `bye`,
 * so the worker gives them back (to another worker) instead of exiting with
 * them unanswered: such a connection would hang, accepted and never served.
 */
export interface FarewellMessage {
  asyncnet: "closing" | "bye";
}

/** Primary → worker: stop accepting and drain (`shutdown`), or close every connection at once (`abort`). */
export interface StopMessage {
  asyncnet: "shutdown" | "abort";
}

/** Primary → worker: send your server's stats (`--metrics` with `--workers`); `id` names the scrape. */
export interface StatsRequestMessage {
  asyncnet: "stats?";
  id: number;
}

/** Worker → primary: the answer to a {@link StatsRequestMessage} of the same `id`. */
export interface StatsMessage {
  asyncnet: "stats";
  id: number;
  stats: ServerStats;
}

/** Any message of the supervision protocol. */
export type WorkerMessage =
  ListeningMessage | StopMessage | FarewellMessage | StatsRequestMessage | StatsMessage;

/** Whether `value` is a message of the supervision protocol of `kind`. */
export function isWorkerMessage<K extends WorkerMessage["asyncnet"]>(
  value: unknown,
  kind: K,
): value is Extract<WorkerMessage, { asyncnet: K }> {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { asyncnet?: unknown }).asyncnet === kind
  );
}

/** The environment variable that tells a worker its slot (1..count), kept by its replacements. */
export const WORKER_SLOT_ENV = "ASYNCNET_WORKER_SLOT";
