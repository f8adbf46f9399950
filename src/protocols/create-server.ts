import type { ProtocolFactory } from "./protocol.js";
import { Server } from "./server.js";
import type { ListenTarget, ServerOptions } from "./server-options.js";

/**
 * Starts a server that gives each connection a new Protocol from `protocolFactory`,
 * asyncio's `loop.create_server`. Resolves once it listens.
 *
 * `host`: `undefined`, `null` or `""` listens on every interface (dual stack);
 * a name listens on every address it resolves to (so `localhost` may mean both
 * `127.0.0.1` and `::1`); an array listens on each. `port` 0 picks a free port,
 * shared by every address; read it from `server.address()`.
 */
export async function createServer(
  protocolFactory: ProtocolFactory,
  host: string | string[] | null | undefined,
  port: number,
  options: ServerOptions = {},
): Promise<Server> {
  return listen(protocolFactory, { host, port: validatePort(port) }, options);
}

/**
 * As {@link createServer}, on a Unix socket at `path`. A socket file left there
 * by a server that died is replaced; any other file makes the listen fail
 * (EADDRINUSE). `close()` removes the file, if it is still the one this server
 * made.
 * @throws {RangeError} when `path` is longer than the platform allows (107
 *   bytes of UTF-8 on Linux), before any socket opens.
 * @throws {Error} with code `ENOENT` when its directory does not exist.
 */
export async function createUnixServer(
  protocolFactory: ProtocolFactory,
  path: string,
  options: ServerOptions = {},
): Promise<Server> {
  return listen(protocolFactory, { path }, options);
}

async function listen(factory: ProtocolFactory, target: ListenTarget, options: ServerOptions) {
  const server = new Server(factory, options);
  await server.listen(target);
  return server;
}

/** Checks a TCP port: an integer in 0..65535. */
export function validatePort(port: unknown): number {
  if (typeof port !== "number")
    throw new TypeError(`Invalid port: expected a number, got ${typeof port}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Invalid port: must be an integer in 0..65535, got ${port}`);
  }
  return port;
}
