/**
 * The `--metrics HOST:PORT` flag every server subcommand takes: where to
 * serve its Prometheus metrics and health check.
 *
 * @module
 */

import { parseHost, parsePort } from "./args.js";
import { UsageError } from "./command.js";

/** `parseArgs` options of the metrics flag. */
export const METRICS_OPTIONS = {
  metrics: { type: "string" },
} as const;

/** The `--help` lines of the metrics flag. */
export const METRICS_HELP = `  --metrics HOST:PORT serve GET /metrics (Prometheus text format: connections
                      open, accepted, refused by limit, closed by cause, bytes,
                      handler errors, process basics) and GET /healthz (200 ok
                      while accepting, 503 once stopping) over HTTP on HOST:PORT
                      ([::1]:PORT for IPv6; port 0 picks a free one, logged as
                      'metrics on HOST:PORT'); closed when the server stops.
                      With --workers N the primary serves it once, the
                      workers' counts summed, plus asyncnet_workers; /healthz
                      is 503 once they drain (default: none)`;

/** Where the metrics endpoint listens. */
export interface MetricsAddress {
  host: string;
  port: number;
}

/**
 * Parses `--metrics`: `HOST:PORT`, `[IPV6]:PORT`; `undefined` when not given.
 * @throws {UsageError} for a value without a port, or a bad host or port.
 */
export function parseMetricsAddress(text: string | undefined): MetricsAddress | undefined {
  if (text === undefined) return undefined;
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(text);
  if (match === null) {
    throw new UsageError(`Invalid --metrics: expected HOST:PORT or [IPV6]:PORT, got '${text}'`);
  }
  const host = match[1] ?? match[2] ?? "";
  if (host === "" || /\s/.test(host)) {
    throw new UsageError(`Invalid --metrics: expected a host before the port, got '${text}'`);
  }
  return { host: parseHost(host), port: parsePort(match[3] ?? "", "--metrics port") };
}
