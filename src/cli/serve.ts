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
import type { CommandContext } from "./command.js";
import type { DropReporter } from "./drop-reporter.js";

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
   * On the first signal, also close every connection gracefully (flushing what
   * was written). For Protocol servers, which have no read loop to stop;
   * stream apps stop themselves through `CommandContext.shutdown`.
   */
  closeClients?: boolean;
  /**
   * After the first signal, how long (ms) the open connections may still run;
   * then they are aborted, and the count logged at warn level. Default: no limit.
   */
  grace?: number;
  /** Refused connections still to report: written when the server stops. */
  drops?: DropReporter;
}

/**
 * Logs `listening on ADDRESS:PORT` for every listening socket, serves until
 * `context.shutdown` aborts (first SIGINT/SIGTERM), then stops accepting and
 * waits for the open connections to finish, at most `grace` ms before it
 * aborts them. Resolves with the exit code: 0 (also when the grace period ran
 * out: the stop was asked for and done), or {@link EXIT_ABORTED} when
 * `context.abort` (second signal) aborted them.
 */
export async function serveUntilSignal(
  server: Server,
  context: CommandContext,
  options: ServeOptions = {},
): Promise<number> {
  const { logger } = context;
  for (const address of server.sockets) logger.info(`listening on ${formatAddress(address)}`);
  await server.serveForever(context.shutdown);
  logger.debug("closing server");
  if (server.connections > 0) {
    logger.info(`stopping: waiting for ${server.connections} connection(s) to finish`);
  }
  options.drops?.close();
  // Connections still queued for a session (--max-sessions) were never read: nothing
  // of theirs was received, so they are closed unserved rather than held for the grace.
  if (server.waiting > 0) {
    logger.info(`closing ${server.waiting} connection(s) still waiting for a session`);
    server.abortWaiting();
  }
  if (options.closeClients) server.closeClients();
  const aborted = new Promise<"aborted">((resolve) => {
    if (context.abort.aborted) resolve("aborted");
    else context.abort.addEventListener("abort", () => resolve("aborted"), { once: true });
  });
  const closed = server.waitClosed().then(() => "closed" as const);
  const { grace } = options;
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<"grace">((resolve) => {
    if (grace !== undefined) timer = setTimeout(() => resolve("grace"), grace);
  });
  let result = await Promise.race([closed, aborted, graceOver]);
  clearTimeout(timer);
  if (result === "grace") {
    const count = server.connections + server.waiting;
    server.abortClients();
    logger.warn(`grace period of ${(grace ?? 0) / 1000} s over: aborted ${count} connection(s)`);
    // Aborted sockets close at once; only a second signal may cut this wait short.
    result = await Promise.race([closed, aborted]);
  }
  if (result === "aborted") {
    server.abortClients();
    logger.warn("aborted: open connections were closed at once");
    return EXIT_ABORTED;
  }
  logger.info("server closed");
  return 0;
}
