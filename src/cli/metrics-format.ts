/**
 * A server's stats in the Prometheus text exposition format (version 0.0.4),
 * as `GET /metrics` of `--metrics` serves them.
 *
 * @module
 */

import { readdirSync } from "node:fs";
import { CLOSE_CAUSES, DROP_REASONS, type ServerStats } from "../protocols/server-stats.js";

/** The `Content-Type` of the text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The process facts exported beside the server's, as Prometheus' client libraries name them. */
export interface ProcessMetrics {
  /** User and system CPU time, in seconds. */
  cpuSeconds: number;
  /** Resident set size, in bytes. */
  residentBytes: number;
  /** Unix time the process started, in seconds. */
  startTimeSeconds: number;
  /** Open file descriptors, or `undefined` where they cannot be counted (not Linux). */
  openFds: number | undefined;
}

/** Reads {@link ProcessMetrics} of this process now: a few system calls, for one scrape. */
export function readProcessMetrics(): ProcessMetrics {
  const cpu = process.cpuUsage();
  let openFds: number | undefined;
  try {
    // The listing's own descriptor is in it too; Prometheus' Go client counts the same way.
    openFds = readdirSync("/proc/self/fd").length;
  } catch {
    openFds = undefined;
  }
  return {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    residentBytes: process.memoryUsage.rss(),
    startTimeSeconds: Math.round(Date.now() / 1000 - process.uptime()),
    openFds,
  };
}

type Sample = readonly [labels: string, value: number];

/**
 * The exposition of `stats` (and of `proc`, when given): each metric with its
 * `# HELP` and `# TYPE` lines, counters named `_total`, sizes in bytes and
 * times in seconds. Every cause and reason is listed, zeros included, so
 * that a rate over a series that appears later is not lost.
 */
export function formatMetrics(stats: ServerStats, proc?: ProcessMetrics): string {
  const out: string[] = [];
  const metric = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    samples: readonly Sample[],
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${labels} ${value}`);
  };
  const one = (value: number): Sample[] => [["", value]];
  metric(
    "asyncnet_connections_open",
    "gauge",
    "Connections being served now.",
    one(stats.connectionsOpen),
  );
  metric(
    "asyncnet_connections_waiting",
    "gauge",
    "Connections admitted and waiting for a session (--max-sessions).",
    one(stats.connectionsWaiting),
  );
  metric(
    "asyncnet_connections_accepted_total",
    "counter",
    "Connections accepted by the listener, refused ones included.",
    one(stats.accepted),
  );
  metric(
    "asyncnet_connections_refused_total",
    "counter",
    "Connections refused at once, by the limit that refused them.",
    DROP_REASONS.map((reason) => [`{reason="${reason}"}`, stats.refused[reason]]),
  );
  metric(
    "asyncnet_connections_served_total",
    "counter",
    "Connections served (given to the protocol or handler).",
    one(stats.served),
  );
  metric(
    "asyncnet_connections_closed_total",
    "counter",
    "Served connections that closed, by cause.",
    CLOSE_CAUSES.map((cause) => [`{cause="${cause}"}`, stats.closed[cause]]),
  );
  metric(
    "asyncnet_received_bytes_total",
    "counter",
    "Bytes received from every connection.",
    one(stats.bytesReceived),
  );
  metric(
    "asyncnet_sent_bytes_total",
    "counter",
    "Bytes written to every connection.",
    one(stats.bytesSent),
  );
  metric(
    "asyncnet_handler_errors_total",
    "counter",
    "Connections whose protocol or handler failed with an error.",
    one(stats.handlerErrors),
  );
  if (proc !== undefined) {
    metric(
      "process_cpu_seconds_total",
      "counter",
      "Total user and system CPU time spent in seconds.",
      one(proc.cpuSeconds),
    );
    metric(
      "process_resident_memory_bytes",
      "gauge",
      "Resident memory size in bytes.",
      one(proc.residentBytes),
    );
    metric(
      "process_start_time_seconds",
      "gauge",
      "Start time of the process since unix epoch in seconds.",
      one(proc.startTimeSeconds),
    );
    if (proc.openFds !== undefined) {
      metric("process_open_fds", "gauge", "Number of open file descriptors.", one(proc.openFds));
    }
  }
  out.push("");
  return out.join("\n");
}
