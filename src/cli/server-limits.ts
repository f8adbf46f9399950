/**
 * The hardening flags every server subcommand takes: idle timeout, connection
 * and session limits, and the grace period of a graceful stop.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import type { Logger } from "../apps/logger.js";
import { peerKey } from "../protocols/connection-info.js";
import type { ServerOptions } from "../protocols/server.js";
import { parseLimit, parseSeconds } from "./args.js";
import { DropReporter } from "./drop-reporter.js";

/** `parseArgs` options of the limit flags. */
export const SERVER_LIMIT_OPTIONS = {
  "idle-timeout": { type: "string" },
  "max-connections": { type: "string" },
  "max-sessions": { type: "string" },
  "max-per-peer": { type: "string" },
  grace: { type: "string" },
} as const;

/** The CLI servers' idle timeout: 300 s. */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 300;
/** How long busy connections may run after the first signal: 10 s. */
export const DEFAULT_GRACE_SECONDS = 10;

/** The `--help` lines of the limit flags. */
export const SERVER_LIMITS_HELP = `  --idle-timeout SECS close a connection after SECS seconds without a byte in
                      either direction (or, while replies wait unread, without
                      the peer taking any of them), logged at info level with
                      the peer (default ${DEFAULT_IDLE_TIMEOUT_SECONDS}; 0: never; SECS may be
                      fractional: 0.5). The close comes between SECS and
                      SECS + max(SECS/10, 0.05) seconds after the last byte
  --max-connections N close new connections at once while N are open, waiting
                      ones included (default: the open-file limit less a
                      reserve, ${describeDefaultMaxConnections()}); refusals are logged
                      at warn level, at most one line a second, with a count
  --max-sessions N    serve at most N connections at a time; later ones are
                      accepted and wait, unread, in arrival order (default:
                      unlimited; 1 is the seeds' one-client-at-a-time server)
  --max-per-peer N    close new connections at once from an address that has N
                      open (default: unlimited); logged as --max-connections
  --grace SECS        after the first signal, how long busy connections may
                      still run before they are aborted (default ${DEFAULT_GRACE_SECONDS}; 0: abort
                      them at once)`;

/** The limit flags as parsed: durations in ms, counts `undefined` when unlimited. */
export interface ServerLimits {
  /** Idle timeout in ms; 0: none. Default 300 000. */
  idleTimeout: number;
  /** Default: the process's open-file limit less a reserve ({@link defaultMaxConnections}). */
  maxConnections: number | undefined;
  /** Default: unlimited. */
  maxSessions: number | undefined;
  /** Default: unlimited. */
  maxConnectionsPerPeer: number | undefined;
  /** Grace period in ms. Default 10 000. */
  grace: number;
}

/** Parses the limit flags; throws a `UsageError` for a bad value. */
export function parseServerLimits(values: {
  "idle-timeout"?: string;
  "max-connections"?: string;
  "max-sessions"?: string;
  "max-per-peer"?: string;
  grace?: string;
}): ServerLimits {
  return {
    idleTimeout: parseSeconds(
      values["idle-timeout"],
      "--idle-timeout",
      DEFAULT_IDLE_TIMEOUT_SECONDS,
    ),
    maxConnections:
      parseLimit(values["max-connections"], "--max-connections") ?? defaultMaxConnections(),
    maxSessions: parseLimit(values["max-sessions"], "--max-sessions"),
    maxConnectionsPerPeer: parseLimit(values["max-per-peer"], "--max-per-peer"),
    grace: parseSeconds(values.grace, "--grace", DEFAULT_GRACE_SECONDS),
  };
}

/** The server options for `limits`, and the reporter their refusals go to. */
export function limitServerOptions(
  limits: ServerLimits,
  logger: Logger,
): { options: ServerOptions; drops: DropReporter } {
  const drops = new DropReporter(logger, {
    names: {
      maxConnections: `--max-connections ${limits.maxConnections}`,
      maxConnectionsPerPeer: `--max-per-peer ${limits.maxConnectionsPerPeer}`,
    },
  });
  const options: ServerOptions = {
    idleTimeout: limits.idleTimeout === 0 ? undefined : limits.idleTimeout,
    maxConnections: limits.maxConnections,
    maxSessions: limits.maxSessions,
    maxConnectionsPerPeer: limits.maxConnectionsPerPeer,
    // The connection's facts, not the socket's: behind a proxy they name the client.
    onDrop: (_socket, reason, info) => drops.drop(reason, peerKey(info)),
  };
  return { options, drops };
}

/**
 * The default `--max-connections`: the soft open-file limit less a reserve for
 * the process's own descriptors (a tenth of the limit, at least 32, at most
 * 1024), or unlimited where the limit cannot be read (not Linux).
 *
 * Out of descriptors, libuv sheds new connections by itself (it accepts and
 * closes them through a reserved descriptor) and never tells Node, so they
 * would vanish unlogged; refusing them just before that point counts and logs
 * every one.
 */
export function defaultMaxConnections(limitsFile = "/proc/self/limits"): number | undefined {
  let text: string;
  try {
    text = readFileSync(limitsFile, "latin1");
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\d+)/m.exec(text)?.[1];
  if (soft === undefined) return undefined;
  const limit = Number(soft);
  const reserve = Math.min(1024, Math.max(32, Math.floor(limit / 10)));
  return limit > reserve ? limit - reserve : 1;
}

function describeDefaultMaxConnections(): string {
  const value = defaultMaxConnections();
  return value === undefined ? "unlimited here" : `${value} here`;
}
