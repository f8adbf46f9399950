/**
 * The HTTP endpoint of `--metrics HOST:PORT`: `GET /metrics` (Prometheus
 * text format) and `GET /healthz`, beside a server subcommand's server.
 *
 * @module
 */

import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Server } from "../protocols/server.js";
import { workerSlot } from "../workers/worker-side.js";
import type { CommandContext } from "./command.js";
import { answerStatsRequests } from "./metrics-cluster.js";
import { formatMetrics, METRICS_CONTENT_TYPE, readProcessMetrics } from "./metrics-format.js";
import type { MetricsAddress } from "./metrics-flags.js";
import { formatAddress, type ServeOptions, serveUntilSignal } from "./serve.js";

/** A listening metrics endpoint. */
export interface MetricsEndpoint {
  /** Where it listens (port 0 resolved to the real port). */
  readonly address: AddressInfo;
  /** Stops listening and drops open scrapes (keep-alive ones too); resolves once closed. Idempotent. */
  close(): Promise<void>;
}

/** What an endpoint serves: the exposition of one scrape, and whether the server is healthy. */
export interface MetricsSource {
  /** The body of `GET /metrics`, for one scrape. */
  metrics(): string | Promise<string>;
  /** `GET /healthz`: 200 `ok` while true, 503 `stopping` once false. */
  serving(): boolean;
}

/**
 * Starts the endpoint for `server` on `address`:
 * - `GET /metrics` (or HEAD): 200, `server.stats()` and process basics in the
 *   text exposition format 0.0.4 (see `formatMetrics`);
 * - `GET /healthz`: 200 `ok` while `server.isServing()`, 503 `stopping` once
 *   it has stopped accepting (after the first signal, while busy
 *   connections drain);
 * - any other path 404, any other method 405.
 *
 * A query string is ignored. Nothing is read from a request's body.
 * @throws the listen error (`EADDRINUSE`, `EACCES`, …) when it cannot listen.
 */
export function startMetricsEndpoint(
  server: Server,
  address: MetricsAddress,
): Promise<MetricsEndpoint> {
  return startMetricsHttp(
    {
      metrics: () => formatMetrics(server.stats(), readProcessMetrics()),
      serving: () => server.isServing(),
    },
    address,
  );
}

/**
 * The endpoint of {@link startMetricsEndpoint} for any `source` (the primary
 * of `--workers N` serves its workers' sum with it). A `metrics()` that
 * rejects answers 500.
 * @throws the listen error when it cannot listen.
 */
export async function startMetricsHttp(
  source: MetricsSource,
  address: MetricsAddress,
): Promise<MetricsEndpoint> {
  const http1 = http.createServer((request, response) => void answer(source, request, response));
  // A scraper's keep-alive connection must not hold the process at exit: see close().
  http1.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    http1.once("error", reject);
    http1.listen({ host: address.host, port: address.port }, () => {
      http1.off("error", reject);
      resolve();
    });
  });
  let closed: Promise<void> | undefined;
  return {
    address: http1.address() as AddressInfo,
    close() {
      closed ??= new Promise<void>((resolve) => {
        http1.close(() => resolve());
        http1.closeAllConnections();
      });
      return closed;
    },
  };
}

async function answer(
  source: MetricsSource,
  request: http.IncomingMessage,
  response: http.ServerResponse,
): Promise<void> {
  const path = (request.url ?? "/").split("?", 1)[0];
  let status: number;
  let type = "text/plain; charset=utf-8";
  let body: string;
  if (path !== "/metrics" && path !== "/healthz") {
    [status, body] = [404, "not found\n"];
  } else if (request.method !== "GET" && request.method !== "HEAD") {
    [status, body] = [405, "method not allowed\n"];
    response.setHeader("Allow", "GET, HEAD");
  } else if (path === "/metrics") {
    try {
      [status, body] = [200, await source.metrics()];
      type = METRICS_CONTENT_TYPE;
    } catch (error) {
      [status, body] = [500, `${error instanceof Error ? error.message : String(error)}\n`];
    }
  } else {
    [status, body] = source.serving() ? [200, "ok\n"] : [503, "stopping\n"];
  }
  if (response.destroyed) return;
  response.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
  });
  response.end(request.method === "HEAD" ? undefined : body);
}

/**
 * {@link serveUntilSignal}, with the metrics endpoint at `address` beside it
 * when given: it starts once `server` listens (logged at info level as
 * `metrics on HOST:PORT`, with the real port) and is closed when the server
 * has stopped. If it cannot listen, `server` is closed and its connections
 * aborted, and the error rethrown: the command fails rather than serve
 * without the metrics asked for.
 *
 * In a worker of `--workers N` nothing listens here: the primary serves the
 * endpoint once for all, and this worker answers its stats requests over the
 * cluster channel instead (see `metrics-cluster.ts`).
 */
export async function serveWithMetrics(
  server: Server,
  address: MetricsAddress | undefined,
  context: CommandContext,
  options: ServeOptions = {},
): Promise<number> {
  if (address === undefined) return serveUntilSignal(server, context, options);
  if (workerSlot() !== undefined) {
    const stop = answerStatsRequests(server);
    try {
      return await serveUntilSignal(server, context, options);
    } finally {
      stop();
    }
  }
  let endpoint: MetricsEndpoint;
  try {
    endpoint = await startMetricsEndpoint(server, address);
  } catch (error) {
    server.close();
    server.abortClients();
    const where = formatAddress({ address: address.host, port: address.port, family: "" });
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot serve metrics on ${where}: ${detail}`, { cause: error });
  }
  context.logger.info(`metrics on ${formatAddress(endpoint.address)}`);
  try {
    return await serveUntilSignal(server, context, options);
  } finally {
    await endpoint.close();
  }
}
