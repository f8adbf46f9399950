/**
 * What every server subcommand does once its server listens: log where, wait
 * for a signal, stop gracefully, and abort on a second signal.
 *
 * @module
 */

import type { AddressInfo } from "node:net";
import { timeoutOf } from "../apps/app-options.js";
import type { Logger } from "../apps/logger.js";
import { peerLoggerName, peerOf } from "../apps/peer.js";

import type { Transport } from "../protocols/transport.js";
import type { Server } from "../protocols/server.js";
import { announceListening } from "../workers/worker-side.js";
import type { CommandContext } from "./command.js";
import type { DropReporter } from "./drop-reporter.js";
import type { WarnLimiter } from "./warn-limiter.js";

/** Exit code after a second signal aborted the open connections. */
export const EXIT_ABORTED = 130;

/** `127.0.0.1:8080`, `[::1]:8080`, or a Unix socket's path. */
export function formatAddress(address: AddressInfo | string): string {
  if (typeof address === "string") return address;
  const host =
    address.family === "IPv6" || address.address.includes(":")
      ? `[${address.address}]`
      : address.address;
  return `${host}:${address.port}`;
}

/** The port the server listens on (the real one when it was started with port 0). */
export function listeningPort(server: Server): number {
  const address = server.address();
  return typeof address === "object" && address !== null ? address.port : 0;
}

/**
 * The server's `onError`: a connection whose handler or protocol threw is
 * logged at error level with its stack, on a logger named after the peer
 * (`echo_::1_5000`). Only that connection is closed; the server goes on.
 *
 * A connection closed by a timeout (`TimeoutError`: the idle timeout, a line
 * timeout) is an expected end, logged at info level with the error's message:
 * `calc_127.0.0.1_5000: Connection closed: idle timeout`.
 */
export function connectionErrorLogger(
  logger: Logger,
  prefix: string,
): (error: Error, transport?: Transport) => void {
  return (error, transport) => {
    const log =
      transport === undefined ? logger : logger.child(peerLoggerName(prefix, peerOf(transport)));
    const timeout = timeoutOf(error);
    if (timeout !== undefined) {
      log.info(timeout.message);
      return;
    }
    log.error(
      transport === undefined
        ? `server error: ${error.message}`
        : `connection failed: ${error.message}`,
      error,
    );
  };
}

/** Options of {@link serveUntilSignal}. */
export interface ServeOptions {
  /**
   * After the first signal, how long (ms) the open connections may still run;
   * then they are aborted, and the count logged at warn level (no earlier than
   * `grace`, no later than `grace + max(grace / 10, 50 ms)` after the signal).
   * Default: no limit.
   */
  grace?: number;
  /** Refused connections still to report: written when the server stops. */
  drops?: DropReporter;
  /** Refused client certificates still to report: written when the server stops. */
  refusals?: WarnLimiter | undefined;
  /**
   * What SIGHUP does while the server serves (a TLS server reloads its
   * certificate: see `tlsServerSetup`). Default: the signal is logged at info
   * level and ignored. Either way SIGHUP no longer ends the process.
   */
  onReload?: () => void;
}

/**
 * Logs `listening on ADDRESS:PORT` for every listening socket, serves until
 * `context.shutdown` aborts (first SIGINT/SIGTERM), then stops gracefully
 * through `server.shutdown()`: idle connections close at once, busy ones are
 * read and answered until their input is quiet, and what is left after
 * `grace` ms is aborted. Resolves with the exit code: 0 (also when the grace
 * period ran out: the stop was asked for and done), or {@link EXIT_ABORTED}
 * when `context.abort` (second signal) aborted them.
 */
export async function serveUntilSignal(
  server: Server,
  context: CommandContext,
  options: ServeOptions = {},
): Promise<number> {
  const { logger } = context;
  // Node's default for SIGHUP ends the process: a listener replaces it while serving,
  // installed before the start is logged, so that whoever waits for that line may signal.
  const onReload =
    options.onReload ?? (() => logger.info("SIGHUP ignored: no TLS certificate to reload"));
  const onHangup = () => onReload();
  process.on("SIGHUP", onHangup);
  for (const address of server.sockets) logger.info(`listening on ${formatAddress(address)}`);
  announceListening(server.sockets);
  try {
    await server.serveForever(context.shutdown);
  } finally {
    process.off("SIGHUP", onHangup);
  }
  logger.debug("closing server");
  if (server.connections > 0) {
    logger.info(`stopping: waiting for ${server.connections} connection(s) to finish`);
  }
  options.drops?.close();
  options.refusals?.close();
  // Connections still queued for a session (--max-sessions) were never read: nothing
  // of theirs was received, so shutdown() closes them unserved rather than hold them.
  if (server.waiting > 0) {
    logger.info(`closing ${server.waiting} connection(s) still waiting for a session`);
  }
  const grace = options.grace ?? Number.POSITIVE_INFINITY;
  await server.shutdown({
    grace,
    signal: context.abort,
    onGraceOver: (count) => {
      logger.warn(`grace period of ${grace / 1000} s over: aborted ${count} connection(s)`);
    },
  });
  if (context.abort.aborted) {
    logger.warn("aborted: open connections were closed at once");
    return EXIT_ABORTED;
  }
  logger.info("server closed");
  return 0;
}
