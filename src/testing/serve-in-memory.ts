/**
 * `serveInMemory`: a real `Server` whose connections are in-memory pairs.
 *
 * @module
 */

import type net from "node:net";
import { systemClock } from "../protocols/clock.js";
import type { ConnectionInfo, SocketAddress } from "../protocols/connection-info.js";
import type { ProtocolFactory } from "../protocols/protocol.js";
import { Server } from "../protocols/server.js";
import {
  type ConnectionHandler,
  type StartServerOptions,
  streamServer,
} from "../streams/start-server.js";
import { type ConnectionEnd, createConnectionPair, socketAddress } from "./connection-pair.js";
import type { LinkOptions } from "./memory-link.js";

/** Options of {@link MemoryServer.connect}: the client's address, the link's behaviour, faults. */
export interface MemoryConnectOptions extends LinkOptions {
  /**
   * The client's address as the server sees it (what `maxConnectionsPerPeer`
   * counts and `peername` reports): a `SocketAddress`, a host (the port is
   * then a new one per connection), or a string path for a Unix-like peer
   * (no per-peer limit applies). Default `127.0.0.1`.
   */
  peer?: SocketAddress | string;
  /** Refuse the connect: it rejects with an `ECONNREFUSED` error (or this one) and the server sees nothing. */
  refuse?: boolean | Error;
  /** The connect completes after this many ms on the server's clock (a virtual one must be advanced). Default 0. */
  delay?: number;
}

let nextPort = 50000;

function isHost(peer: string): boolean {
  return !peer.includes("/") && peer !== "";
}

/**
 * A real {@link Server} that never listens: `connect()` makes an in-memory
 * connection and hands its server side to `acceptStream`, so it goes through
 * the same admission, sessions, timeouts and shutdown as a socket. Made by
 * {@link serveInMemory}.
 *
 * `isServing()` is true until `close()`; `address()` is the fake address
 * clients connect to (`127.0.0.1:7000`).
 */
export class MemoryServer extends Server {
  readonly #options: StartServerOptions;
  readonly #address: SocketAddress = socketAddress("127.0.0.1", 7000);
  #closed = false;

  /** @internal Use {@link serveInMemory}. */
  constructor(factory: ProtocolFactory, options: StartServerOptions) {
    super(factory, options);
    this.#options = options;
  }

  /**
   * Connects a new in-memory client and returns its end (use `streams()`,
   * `protocol(p)`, or run a script on it). Resolves once the server has
   * taken the connection (it may have dropped it at once, for a limit: the
   * client end then reads EOF).
   * @throws {Error} with code `ECONNREFUSED` when the server is closed or `refuse` is set.
   * @throws {RangeError} for a negative `delay`, or a bad link option.
   */
  async connect(options: MemoryConnectOptions = {}): Promise<ConnectionEnd> {
    const { peer = "127.0.0.1", refuse = false, delay = 0 } = options;
    if (!(delay >= 0)) throw new RangeError(`Invalid delay: must be at least 0 ms, got ${delay}`);
    const client =
      typeof peer === "string" ? (isHost(peer) ? socketAddress(peer, nextPort++) : peer) : peer;
    const info: ConnectionInfo = Object.freeze({ sockname: this.#address, peername: client });
    const [clientEnd, serverEnd] = createConnectionPair({
      ...options,
      info: Object.freeze({ sockname: client, peername: this.#address }),
      clock: this.#options.clock,
    });
    if (delay > 0) {
      const clock = this.#options.clock ?? systemClock;
      await new Promise<void>((resolve) => clock.schedule(delay, resolve));
    }
    if (refuse !== false || this.#closed) {
      throw refuse instanceof Error ? refuse : refused(this.#address);
    }
    this.acceptStream(serverEnd.stream, info);
    return clientEnd;
  }

  override isServing(): boolean {
    return !this.#closed;
  }

  override close(): void {
    this.#closed = true;
    super.close();
  }

  override address(): net.AddressInfo {
    return { ...this.#address };
  }

  override get sockets(): net.AddressInfo[] {
    return this.#closed ? [] : [{ ...this.#address }];
  }
}

function refused(address: SocketAddress): Error {
  return Object.assign(new Error(`connect ECONNREFUSED ${address.address}:${address.port}`), {
    code: "ECONNREFUSED",
    errno: -111,
    syscall: "connect",
    address: address.address,
    port: address.port,
  });
}

/** What {@link serveInMemory} serves: a `startServer` handler, or a protocol factory named as one. */
export type MemoryServed =
  | ConnectionHandler
  | {
      /** Makes the protocol of each connection, as `createServer`'s factory. */
      protocolFactory: ProtocolFactory;
    };

/**
 * A real `Server` (a {@link MemoryServer}) serving in-memory connections,
 * with no socket: `handler(reader, writer)` per connection as `startServer`
 * runs it (so `serveLines` handlers work unchanged), or `{ protocolFactory }`
 * as `createServer` does. Every server option works as over sockets
 * (`maxConnections`, `maxConnectionsPerPeer`, `maxSessions`, `idleTimeout`,
 * `onDrop`, `onError`, `closeClients`, `waitClosed`, `shutdown`); with
 * `clock` (a virtual clock) its timeouts run in virtual time. Not `tls`.
 *
 * @example
 * ```ts
 * const clock = createVirtualClock();
 * const server = serveInMemory(serveLines(() => ({ onLine: (l) => l })), {
 *   idleTimeout: 300_000,
 *   clock,
 * });
 * const { reader, writer } = (await server.connect()).streams();
 * writer.write("hi\n");
 * assert.equal((await reader.readLine()).toString(), "hi\n");
 * await clock.advance(330_000); // the idle timeout closed it
 * assert.equal((await reader.read(10)).length, 0);
 * ```
 *
 * @throws {TypeError} when `served` is neither, or `options.tls` is set.
 * @throws {RangeError} / {TypeError} for bad server options, as `createServer`.
 */
export function serveInMemory(
  served: MemoryServed,
  options: StartServerOptions = {},
): MemoryServer {
  if (options.tls !== undefined) {
    throw new TypeError("Invalid tls: in-memory connections carry no TLS");
  }
  if (typeof served === "object" && served !== null && "protocolFactory" in served) {
    if (typeof served.protocolFactory !== "function") {
      throw new TypeError("Invalid protocolFactory: expected a function");
    }
    return new MemoryServer(served.protocolFactory, options);
  }
  return streamServer(
    served as ConnectionHandler,
    options,
    (factory) => new MemoryServer(factory, options),
  );
}
