/**
 * `--workers N`: a server subcommand on several processes. The flag itself,
 * its `--help` lines, and what the primary process runs instead of the
 * command (the workers run the command as usual).
 *
 * @module
 */

import { existsSync } from "node:fs";
import os from "node:os";
import type { Logger } from "../apps/logger.js";
import { superviseSignals } from "../workers/start-workers.js";
import { Supervisor } from "../workers/supervisor.js";
import { parseSeconds } from "./args.js";
import { UsageError } from "./command.js";
import { clusterMetricsSource } from "./metrics-cluster.js";
import { startMetricsHttp, type MetricsEndpoint } from "./metrics-endpoint.js";
import { parseMetricsAddress } from "./metrics-flags.js";
import { formatAddress } from "./serve.js";
import { DEFAULT_GRACE_SECONDS } from "./server-limits.js";

/** `parseArgs` options of the worker flag (so that a worker's command accepts it). */
export const WORKER_OPTIONS = {
  workers: { type: "string" },
} as const;

/** The subcommands that take `--workers`. */
export const WORKER_COMMANDS: readonly string[] = [
  "echo-server",
  "line-echo-server",
  "calc-server",
];

/** The most workers accepted. */
export const MAX_WORKERS = 256;

/** The `--help` lines of `--workers`. */
export const WORKERS_HELP = `  --workers N         serve from N processes (auto: one per available CPU, here
                      ${os.availableParallelism()}; default 1: this process alone). They share the
                      listening sockets through node:cluster round-robin: the
                      primary accepts and hands each connection to the next
                      worker (SO_REUSEPORT is not used). The limits
                      --max-connections, --max-per-peer and --max-sessions hold
                      per worker, not for the whole server. Worker log lines
                      start with [wN]; the primary logs each worker's pid.
                      SIGTERM/SIGINT drain every worker as above; SIGHUP is a
                      rolling restart (each worker replaced in turn, the new one
                      listening before the old one drains; a replacement that
                      fails stops the roll and keeps the old ones). A worker
                      that dies is respawned after a backoff; 5 deaths within
                      10 s stop the respawns while the others keep serving`;

/** Parses a `--workers` value: `auto` or 1..{@link MAX_WORKERS}. */
export function parseWorkers(text: string | undefined): number {
  if (text === undefined) return 1;
  if (text === "auto") return os.availableParallelism();
  const count = /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
  if (!(count >= 1 && count <= MAX_WORKERS)) {
    throw new UsageError(`Invalid --workers: expected auto or 1..${MAX_WORKERS}, got '${text}'`);
  }
  return count;
}

/** The value of `--name V` / `--name=V` in `args` (the last one wins, as parseArgs), up to a `--`. */
function flagValue(args: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") break;
    if (arg === name) value = args[++i];
    else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
  }
  return value;
}

/**
 * The worker count `args` of `command` ask for (1 when the command takes no
 * `--workers`, or the flag is not given); the other flags are checked by the
 * first worker, whose usage error ends the primary with its exit code.
 */
export function workerCount(command: string, args: readonly string[]): number {
  if (!WORKER_COMMANDS.includes(command)) return 1;
  return parseWorkers(flagValue(args, "--workers"));
}

/**
 * Test hook: a worker fails at once while the file this variable names
 * exists (a crash loop, a failed roll). Not for production use.
 */
export const FAIL_START_ENV = "ASYNCNET_TEST_FAIL_START";

/** Throws when the {@link FAIL_START_ENV} test hook asks this worker to fail. */
export function checkFailStart(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[FAIL_START_ENV];
  if (file !== undefined && file !== "" && existsSync(file)) {
    throw new Error(`Cannot start worker: ${FAIL_START_ENV} file ${file} exists`);
  }
}

/**
 * The primary of `--workers N`: forks N workers running the same command
 * line, supervises them (signals as in {@link WORKERS_HELP}), and resolves
 * with the exit code once they are all gone: 0 after a graceful stop, 130
 * after a second signal, 1 when no worker is left, or the first worker's
 * code when it could not start (2 for a bad flag).
 *
 * With `--metrics HOST:PORT` the primary serves the endpoint, once the
 * workers listen, with their stats summed (see `clusterMetricsSource`); the
 * workers do not listen on it. If it cannot listen, the workers are stopped
 * and the primary exits 1.
 */
export async function runPrimary(
  count: number,
  args: readonly string[],
  logger: Logger,
): Promise<number> {
  const grace = parseSeconds(flagValue(args, "--grace"), "--grace", DEFAULT_GRACE_SECONDS);
  const metrics = parseMetricsAddress(flagValue(args, "--metrics"));
  // The primary says where the server listens too, in the single process's words:
  // the workers share its sockets, so the first worker's addresses are the server's.
  const onListening = (addresses: readonly string[]) => {
    for (const address of addresses) logger.info(`listening on ${address}`);
  };
  const supervisor = new Supervisor(count, { grace, log: logger, onListening });
  superviseSignals(supervisor);
  logger.info(`primary pid=${process.pid}: starting ${count} workers (cluster round-robin)`);
  await supervisor.start();
  let endpoint: MetricsEndpoint | undefined;
  if (metrics !== undefined && !supervisor.stopping) {
    try {
      endpoint = await startMetricsHttp(clusterMetricsSource(supervisor), metrics);
      logger.info(`metrics on ${formatAddress(endpoint.address)}`);
    } catch (error) {
      const where = formatAddress({ address: metrics.host, port: metrics.port, family: "" });
      const detail = error instanceof Error ? error.message : String(error);
      logger.error(`Cannot serve metrics on ${where}: ${detail}`);
      supervisor.stop();
      await supervisor.closed;
      return 1;
    }
  }
  const code = await supervisor.closed;
  await endpoint?.close();
  if (code === 0) logger.info("all workers stopped");
  return code;
}
