import { lookup } from "node:dns/promises";
import { unlinkSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import type { Protocol, ProtocolFactory } from "./protocols/protocol.js";
import {
  resolveWriteBufferLimits,
  Transport,
  type WriteBufferLimits,
} from "./protocols/transport.js";

/** Where a server listens: TCP hosts and a port, or a Unix socket path. */
export type ListenTarget =
  | { host: string | string[] | null | undefined; port: number }
  | { path: string };

/** Options of {@link createServer} and `startServer`. Every field is optional. */
export interface ServerOptions {
  /** Node TLS server options (`key`, `cert`, …); when given, every connection is TLS. */
  tls?: tls.TlsOptions;
  /** Set TCP_NODELAY on every connection, as asyncio does. Default `true`. */
  noDelay?: boolean;
  /** Length of the kernel's accept queue. Default 511 (Node's). */
  backlog?: number;
  /** Write buffer marks of every connection. Default high 64 KiB, low 16 KiB. */
  writeBufferLimits?: WriteBufferLimits;
  /** Close a connection after this many milliseconds without reads or writes. Default: never. */
  idleTimeout?: number;
  /** Close new connections at once while this many are open. Default: unlimited. */
  maxConnections?: number;
  /** Stop the server (as `close()`) when this signal aborts. */
  signal?: AbortSignal;
  /**
   * Reports an error that closed one connection (a throwing protocol callback or
   * handler) or a failed accept. Default: written with its stack to stderr.
   * The server keeps serving either way.
   */
  onError?: (error: Error, transport?: Transport) => void;
  /** Called when a connection is refused because of `maxConnections`. */
  onDrop?: (socket: net.Socket) => void;
}

/** Internal hook through which the streams layer registers handler tasks. */
export const kTrackTask: unique symbol = Symbol("asyncnet.trackTask");
/** Internal hook through which the streams layer reports a failed handler. */
export const kReportError: unique symbol = Symbol("asyncnet.reportError");

function defaultOnError(error: Error, transport?: Transport): void {
  const peer = transport?.getExtraInfo("peername") as
    | { address?: string; port?: number }
    | undefined;
  const where = peer?.port === undefined ? "" : ` (peer ${peer.address} port ${peer.port})`;
  process.stderr.write(`asyncnet: error in connection${where}: ${error.stack ?? error}\n`);
}

/**
 * A listening server: one or more listening sockets (several hosts, dual
 * stack) and the connections they accepted. Made by `createServer` or
 * `startServer`, already listening.
 *
 * Lifecycle: `close()` stops accepting; `closeClients()` / `abortClients()`
 * end the connections; `waitClosed()` resolves once the server is closed and
 * every connection and handler has finished.
 */
export class Server implements AsyncDisposable {
  readonly #factory: ProtocolFactory;
  readonly #options: ServerOptions;
  readonly #listeners: net.Server[] = [];
  readonly #transports = new Set<Transport>();
  readonly #tasks = new Set<Promise<unknown>>();
  #dropped = 0;
  #closed = false;
  #unixPath: string | undefined;
  #closeWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];

  /** Use `createServer` or `startServer`; this makes a server that does not listen yet. */
  constructor(protocolFactory: ProtocolFactory, options: ServerOptions = {}) {
    validateServerOptions(options);
    this.#factory = protocolFactory;
    this.#options = options;
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** Starts listening on `target`: every address a host name resolves to, on one port. */
  async listen(target: ListenTarget): Promise<void> {
    if (this.#closed) throw new Error("Cannot listen: the server is closed");
    if (this.#options.signal?.aborted) {
      this.close();
      return;
    }
    if ("path" in target) {
      await this.#listenOne({ path: target.path });
      this.#unixPath = target.path;
      return;
    }
    let port = target.port;
    for (const host of await resolveHosts(target.host)) {
      const listener = await this.#listenOne({
        host,
        port,
        ipv6Only: host === "::" ? false : undefined,
      });
      port = (listener.address() as net.AddressInfo).port;
    }
  }

  async #listenOne(options: net.ListenOptions): Promise<net.Server> {
    const secure = this.#options.tls !== undefined;
    const serverOptions = { allowHalfOpen: true, pauseOnConnect: false };
    const listener = secure
      ? tls.createServer({ ...serverOptions, ...this.#options.tls })
      : net.createServer(serverOptions);
    listener.on("connection", this.#onRawConnection);
    if (secure) {
      listener.on("secureConnection", this.#onConnection);
    }
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen({ backlog: this.#options.backlog ?? 511, ...options }, () => {
        listener.off("error", reject);
        resolve();
      });
    });
    // Only now: a failed listen rejects, it is not also an error "in a connection".
    // Accept errors (EMFILE and the like) must never stop a server; libuv keeps accepting.
    listener.on("error", (error: Error) => this.#report(error));
    this.#listeners.push(listener);
    if (this.#closed) listener.close();
    return listener;
  }

  readonly #onRawConnection = (socket: net.Socket): void => {
    const max = this.#options.maxConnections;
    if (this.#closed || (max !== undefined && this.#transports.size >= max)) {
      this.#dropped++;
      socket.destroy();
      if (!this.#closed) this.#options.onDrop?.(socket);
      return;
    }
    if (this.#options.noDelay !== false) socket.setNoDelay(true);
    if (this.#options.tls === undefined) this.#onConnection(socket);
  };

  readonly #onConnection = (socket: net.Socket): void => {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    let protocol: Protocol;
    try {
      protocol = this.#factory();
    } catch (error) {
      socket.destroy();
      this.#report(error);
      return;
    }
    const transport = new Transport(socket, protocol, {
      writeBufferLimits: this.#options.writeBufferLimits,
      idleTimeout: this.#options.idleTimeout,
      onProtocolError: (error, t) => this.#report(error, t),
      onLost: this.#onLost,
      names: this.#unixPath === undefined ? undefined : { sockname: this.#unixPath, peername: "" },
    });
    if (!socket.destroyed) this.#transports.add(transport);
  };

  readonly #onLost = (transport: Transport): void => {
    this.#transports.delete(transport);
    this.#checkIdle();
  };

  /** Reports an error through `onError`. */
  [kReportError](error: unknown, transport?: Transport): void {
    this.#report(error, transport);
  }

  #report(error: unknown, transport?: Transport): void {
    const err = error instanceof Error ? error : new Error(String(error));
    (this.#options.onError ?? defaultOnError)(err, transport);
  }

  /** Registers work (a stream handler) that `waitClosed()` must wait for. */
  [kTrackTask](task: Promise<unknown>): void {
    this.#tasks.add(task);
    task.then(
      () => this.#taskDone(task),
      () => this.#taskDone(task),
    );
  }

  #taskDone(task: Promise<unknown>): void {
    this.#tasks.delete(task);
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (!this.#closed || this.#transports.size > 0 || this.#tasks.size > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Whether the server is accepting connections. */
  isServing(): boolean {
    return !this.#closed && this.#listeners.length > 0;
  }

  /** The number of open connections. */
  get connections(): number {
    return this.#transports.size;
  }

  /** The number of connections refused because of `maxConnections`. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The address of the first listening socket (port 0 resolved to the real port). */
  address(): net.AddressInfo | string | null {
    return this.#listeners[0]?.address() ?? null;
  }

  /** The addresses of every listening socket, one per host the server was bound to. */
  get sockets(): (net.AddressInfo | string)[] {
    return this.#listeners.flatMap((l) => l.address() ?? []);
  }

  /**
   * Resolves when the server stops accepting (`close()`, or `signal` aborts).
   * Connections may still be open then: see `waitClosed()`.
   */
  serveForever(signal?: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#closeWaiters.push(resolve);
      if (signal?.aborted) this.close();
      else signal?.addEventListener("abort", () => this.close(), { once: true });
    });
  }

  /** Stops accepting connections. Open connections go on. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const listener of this.#listeners) listener.close();
    if (this.#unixPath !== undefined) {
      try {
        unlinkSync(this.#unixPath);
      } catch {
        // Already gone: nothing to clean.
      }
    }
    const waiters = this.#closeWaiters;
    this.#closeWaiters = [];
    for (const resolve of waiters) resolve();
    this.#checkIdle();
  }

  /** Closes every connection gracefully: buffered replies are flushed first. */
  closeClients(): void {
    for (const transport of this.#transports) transport.close();
  }

  /** Closes every connection at once, dropping buffered data. */
  abortClients(): void {
    for (const transport of this.#transports) transport.abort();
  }

  /**
   * Resolves once the server is closed and every connection and handler has
   * finished. Resolves at once on a closed, idle server; waits for `close()`
   * when called on a serving one.
   */
  waitClosed(): Promise<void> {
    if (this.#closed && this.#transports.size === 0 && this.#tasks.size === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** For `await using`: stops accepting, closes every connection gracefully and waits for them. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    this.closeClients();
    await this.waitClosed();
  }
}

/**
 * Resolves a listen host as asyncio does: none or `""` → every interface
 * (dual stack); a name → every address it resolves to; a list → each of them.
 */
async function resolveHosts(host: string | string[] | null | undefined): Promise<string[]> {
  if (host === undefined || host === null || host === "")
    return [net.isIPv6("::") ? "::" : "0.0.0.0"];
  const hosts = Array.isArray(host) ? host : [host];
  const addresses: string[] = [];
  for (const name of hosts) {
    if (net.isIP(name) !== 0) {
      addresses.push(name);
      continue;
    }
    const found = await lookup(name, { all: true });
    for (const { address } of found) addresses.push(address);
  }
  return [...new Set(addresses)];
}

function validateServerOptions(options: ServerOptions): void {
  for (const name of ["idleTimeout", "maxConnections", "backlog"] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(`Invalid server option: ${name} must be an integer >= 0, got ${value}`);
    }
  }
  // Checked here, not at the first connection, where a throw would escape the accept callback.
  if (options.writeBufferLimits !== undefined) resolveWriteBufferLimits(options.writeBufferLimits);
}
