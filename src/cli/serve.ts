/**
 * What every server subcommand does once its server listens: log where, wait
 * for a signal, stop gracefully, and abort on a second signal.
 *
 * @module
 */

import type { AddressInfo } from "node:net";
import type { Logger } from "../apps/logger.js";
import { peerLoggerName, peerOf } from "../apps/peer.js";
import type { Transport } from "../protocols/transport.js";
import type { Server } from "../server.js";
import type { CommandContext } from "./command.js";

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
 */
export function connectionErrorLogger(
  logger: Logger,
  prefix: string,
): (error: Error, transport?: Transport) => void {
  return (error, transport) => {
    const log =
      transport === undefined ? logger : logger.child(peerLoggerName(prefix, peerOf(transport)));
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
}

/**
 * Logs `listening on ADDRESS:PORT` for every listening socket, serves until
 * `context.shutdown` aborts (first SIGINT/SIGTERM), then stops accepting and
 * waits for the open connections to finish. Resolves with the exit code: 0,
 * or {@link EXIT_ABORTED} when `context.abort` (second signal) aborted them.
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
  if (options.closeClients) server.closeClients();
  const aborted = new Promise<true>((resolve) => {
    if (context.abort.aborted) resolve(true);
    else context.abort.addEventListener("abort", () => resolve(true), { once: true });
  });
  const result = await Promise.race([server.waitClosed().then(() => false), aborted]);
  if (result) {
    server.abortClients();
    logger.warn("aborted: open connections were closed at once");
    return EXIT_ABORTED;
  }
  logger.info("server closed");
  return 0;
}
