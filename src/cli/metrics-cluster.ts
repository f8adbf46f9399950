/**
 * `--metrics` with `--workers N`: the primary serves `/metrics` and
 * `/healthz` once for the whole server, from the stats each worker sends it
 * over the cluster IPC channel when asked.
 *
 * @module
 */

import cluster from "node:cluster";
import type { Server } from "../protocols/server.js";
import {
  CLOSE_CAUSES,
  DROP_REASONS,
  type ServerStats,
  StatCounters,
} from "../protocols/server-stats.js";
import { isWorkerMessage, type StatsMessage } from "../workers/worker-messages.js";
import type { Supervisor } from "../workers/supervisor.js";
import { formatMetrics, readProcessMetrics } from "./metrics-format.js";
import type { MetricsSource } from "./metrics-endpoint.js";

/** How long a scrape waits for the workers' answers by default, in ms. */
export const STATS_TIMEOUT_MS = 1000;

/**
 * In a worker: answers the primary's stats requests with `server.stats()`.
 * Returns the function that stops answering. Does nothing outside a worker.
 */
export function answerStatsRequests(server: Server): () => void {
  if (!cluster.isWorker || process.send === undefined) return () => {};
  const onMessage = (message: unknown) => {
    if (!isWorkerMessage(message, "stats?") || !process.connected) return;
    const answer: StatsMessage = { asyncnet: "stats", id: message.id, stats: server.stats() };
    process.send?.(answer);
  };
  process.on("message", onMessage);
  return () => process.off("message", onMessage);
}

/** The sum of `all`, field by field (an empty list sums to zeros). */
export function sumStats(all: readonly ServerStats[]): ServerStats {
  const sum = new StatCounters().snapshot(0, 0);
  for (const stats of all) {
    sum.connectionsOpen += stats.connectionsOpen;
    sum.connectionsWaiting += stats.connectionsWaiting;
    sum.accepted += stats.accepted;
    sum.served += stats.served;
    sum.bytesReceived += stats.bytesReceived;
    sum.bytesSent += stats.bytesSent;
    sum.handlerErrors += stats.handlerErrors;
    for (const reason of DROP_REASONS) sum.refused[reason] += stats.refused[reason];
    for (const cause of CLOSE_CAUSES) sum.closed[cause] += stats.closed[cause];
  }
  return sum;
}

let nextId = 0;

/**
 * In the primary: asks every connected worker for its stats and resolves with
 * the answers that came within `timeout` ms (a worker still starting, or
 * stuck, is left out of this scrape).
 */
export function collectWorkerStats(timeout = STATS_TIMEOUT_MS): Promise<ServerStats[]> {
  const id = ++nextId;
  const workers = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected() === true);
  if (workers.length === 0) return Promise.resolve([]);
  return new Promise((resolve) => {
    const answers = new Map<number, ServerStats>();
    const done = () => {
      clearTimeout(timer);
      cluster.off("message", onMessage);
      resolve([...answers.values()]);
    };
    const onMessage = (worker: { id: number }, message: unknown) => {
      if (!isWorkerMessage(message, "stats") || message.id !== id) return;
      answers.set(worker.id, message.stats);
      if (answers.size === workers.length) done();
    };
    const timer = setTimeout(done, timeout);
    cluster.on("message", onMessage);
    for (const worker of workers) {
      try {
        worker?.send({ asyncnet: "stats?", id });
      } catch {
        // Disconnected since: it is left out, as one that does not answer.
      }
    }
  });
}

/**
 * The metrics of a supervised server: every worker's stats summed (as one
 * server's, the series of a single process), the primary's process metrics,
 * and two gauges, `asyncnet_workers` (serving now) and
 * `asyncnet_workers_reporting` (whose stats are in this scrape). A worker
 * that exits takes its counts with it: the sums may go down then, which
 * Prometheus' `rate()` reads as a counter reset. `/healthz` is 503 once the
 * supervisor stops (and while no worker serves).
 */
export function clusterMetricsSource(supervisor: Supervisor): MetricsSource {
  return {
    async metrics() {
      const all = await collectWorkerStats();
      const gauges = [
        "# HELP asyncnet_workers Worker processes serving now.",
        "# TYPE asyncnet_workers gauge",
        `asyncnet_workers ${supervisor.pids.length}`,
        "# HELP asyncnet_workers_reporting Workers whose stats this scrape sums.",
        "# TYPE asyncnet_workers_reporting gauge",
        `asyncnet_workers_reporting ${all.length}`,
        "",
      ].join("\n");
      return formatMetrics(sumStats(all), readProcessMetrics()) + gauges;
    },
    serving: () => !supervisor.stopping && supervisor.pids.length > 0,
  };
}
