import { lookup } from "node:dns/promises";
import { lstatSync, unlinkSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { gracefulShutdown, type ShutdownOptions } from "./protocols/graceful-shutdown.js";
import { type Clock, systemClock } from "./protocols/clock.js";
import {
  handshakeDone,
  resolveHandshakeTimeout,
  timeHandshake,
  withoutNodeHandshakeTimer,
} from "./protocols/handshake-timeout.js";
import type { Protocol, ProtocolFactory } from "./protocols/protocol.js";
import { MAX_TIMEOUT_MS } from "./protocols/sweeper.js";
import {
  resolveWriteBufferLimits,
  Transport,
  type TransportOptions,
  type WriteBufferLimits,
} from "./protocols/transport.js";

/** Where a server listens: TCP hosts and a port, or a Unix socket path. */
export type ListenTarget =
  { host: string | string[] | null | undefined; port: number } | { path: string };

/** Options of {@link createServer} and `startServer`. Every field is optional. */
export interface ServerOptions {
  /**
   * Node TLS server options (`key`, `cert`, …); when given, every connection is
   * TLS. `handshakeTimeout` (ms, default 120 000 as Node's) is timed by the
   * library's clock from the accept, not refreshed by the client's bytes: a
   * handshake not done by then closes the socket, no earlier than
   * `handshakeTimeout` and no later than `handshakeTimeout + max(handshakeTimeout / 10, 50 ms)`.
   */
  tls?: tls.TlsOptions;
  /** Set TCP_NODELAY on every connection, as asyncio does. Default `true`. */
  noDelay?: boolean;
  /** Length of the kernel's accept queue. Default 511 (Node's). */
  backlog?: number;
  /** Write buffer marks of every connection. Default high 64 KiB, low 16 KiB. */
  writeBufferLimits?: WriteBufferLimits;
  /**
   * Close a connection after this many milliseconds without progress: a read,
   * a write, or any byte of its pending replies taken by the peer; while its
   * write buffer is above the high-water mark only the latter counts (a peer
   * that sends but does not read is idle; see `TransportOptions.idleTimeout`).
   * The close comes no earlier than `idleTimeout` and no later than
   * `idleTimeout + max(idleTimeout / 10, 50 ms)` after the last progress. At
   * most 2³¹ − 1 ms. Default: never.
   */
  idleTimeout?: number;
  /**
   * The clock of every timer of the server and its connections: idle timeout,
   * TLS handshake timeout, close linger, the grace of `shutdown()`. For tests: a virtual clock drives every
   * timeout. Default {@link systemClock}.
   */
  clock?: Clock;
  /**
   * Close new connections at once while this many are open (waiting sessions
   * included, and over TLS those still in their handshake). Each refusal is
   * counted in `dropped` and reported to `onDrop`. Default: unlimited.
   */
  maxConnections?: number;
  /**
   * Serve at most this many connections at a time; beyond it connections are
   * accepted but wait, unread, in arrival order, until one ends (`maxSessions: 1`
   * is the seed's one-client-at-a-time server). Default: unlimited.
   */
  maxSessions?: number;
  /** Close new connections at once while this many are open from the same peer address. Default: unlimited. */
  maxConnectionsPerPeer?: number;
  /** Stop the server (as `close()`) when this signal aborts. */
  signal?: AbortSignal;
  /**
   * Reports an error that closed one connection (a throwing protocol callback or
   * handler) or a failed accept. Default: written with its stack to stderr.
   * The server keeps serving either way.
   */
  onError?: (error: Error, transport?: Transport) => void;
  /** Called when a connection is refused because of a limit, with the limit's option name. */
  onDrop?: (socket: net.Socket, reason: "maxConnections" | "maxConnectionsPerPeer") => void;
}

/** Internal hook through which the streams layer registers handler tasks. */
export const kTrackTask: unique symbol = Symbol("asyncnet.trackTask");
/** Internal hook through which the streams layer reports a failed handler. */
export const kReportError: unique symbol = Symbol("asyncnet.reportError");

function defaultOnError(error: Error, transport?: Transport): void {
  const peer = transport?.getExtraInfo("peername") as
    { address?: string; port?: number } | undefined;
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
  #tasks = 0;
  readonly #waiting: net.Socket[] = [];
  readonly #perPeer = new Map<string, number>();
  #dropped = 0;
  #acceptErrors = { last: 0, suppressed: 0 };
  #closed = false;
  #unixPath: string | undefined;
  #transportOptions: TransportOptions | undefined;
  /** Accepted sockets of a TLS server that have not closed, handshake or not. */
  #tlsSockets = 0;
  #closeWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  readonly #handshakeTimeout: number;

  /** Use `createServer` or `startServer`; this makes a server that does not listen yet. */
  constructor(protocolFactory: ProtocolFactory, options: ServerOptions = {}) {
    validateServerOptions(options);
    this.#handshakeTimeout = resolveHandshakeTimeout(options.tls ?? {});
    this.#factory = protocolFactory;
    this.#options = options;
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /**
   * Starts listening on `target`: every address a host name resolves to, on one
   * port. If any address fails, the server is closed (none stays half-bound)
   * and the error rethrown.
   */
  async listen(target: ListenTarget): Promise<void> {
    if (this.#closed) throw new Error("Cannot listen: the server is closed");
    try {
      await this.#listen(target);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  async #listen(target: ListenTarget): Promise<void> {
    if (this.#options.signal?.aborted) {
      this.close();
      return;
    }
    if ("path" in target) {
      removeStaleSocket(target.path);
      await this.#listenOne({ path: target.path });
      this.#unixPath = target.path;
      this.#transportOptions = undefined;
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
    // With sessions limited, sockets start paused so that waiting ones are not read.
    const pauseOnConnect = this.#options.maxSessions !== undefined && !secure;
    const serverOptions = { allowHalfOpen: true, pauseOnConnect };
    const listener = secure
      ? tls.createServer(withoutNodeHandshakeTimer({ ...serverOptions, ...this.#options.tls }))
      : net.createServer(serverOptions);
    listener.on("connection", this.#onRawConnection);
    if (secure) {
      listener.on("secureConnection", this.#onConnection);
      // A failed handshake only emits this event:
      // Node leaves the socket open, so a client that never says hello would stay.
      listener.on("tlsClientError", (_error: Error, socket: tls.TLSSocket) => socket.destroy());
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
    listener.on("error", this.#onAcceptError);
    this.#listeners.push(listener);
    if (this.#closed) listener.close();
    return listener;
  }

  readonly #onRawConnection = (socket: net.Socket): void => {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const { maxConnections, maxConnectionsPerPeer, noDelay, tls } = this.#options;
    // Over TLS every socket counts from its accept, handshake included: a client
    // that connects and never says hello holds a descriptor all the same.
    const open =
      tls === undefined ? this.#transports.size + this.#waiting.length : this.#tlsSockets;
    if (maxConnections !== undefined && open >= maxConnections) {
      this.#drop(socket, "maxConnections");
      return;
    }
    if (maxConnectionsPerPeer !== undefined && socket.remoteAddress !== undefined) {
      const peer = socket.remoteAddress;
      const count = this.#perPeer.get(peer) ?? 0;
      if (count >= maxConnectionsPerPeer) {
        this.#drop(socket, "maxConnectionsPerPeer");
        return;
      }
      this.#perPeer.set(peer, count + 1);
      socket.once("close", () => {
        const left = (this.#perPeer.get(peer) ?? 1) - 1;
        if (left === 0) this.#perPeer.delete(peer);
        else this.#perPeer.set(peer, left);
      });
    }
    if (noDelay !== false) socket.setNoDelay(true);
    if (tls === undefined) {
      this.#onConnection(socket);
    } else {
      this.#tlsSockets++;
      socket.on("close", this.#onTlsSocketClose);
      timeHandshake(socket, this.#handshakeTimeout, this.#options.clock ?? systemClock);
    }
  };

  readonly #onTlsSocketClose = (): void => {
    this.#tlsSockets--;
  };

  #drop(socket: net.Socket, reason: "maxConnections" | "maxConnectionsPerPeer"): void {
    this.#dropped++;
    // Reported before destroy(): a destroyed socket no longer knows its peer's address.
    try {
      this.#options.onDrop?.(socket, reason);
    } catch (error) {
      this.#report(error);
    } finally {
      socket.destroy();
    }
  }

  // libuv keeps accepting after EMFILE/ENFILE (it sheds the backlog through a
  // reserved descriptor), so an accept error is only reported, at most once a second.
  readonly #onAcceptError = (error: Error): void => {
    const state = this.#acceptErrors;
    const now = Date.now();
    if (now - state.last < 1000) {
      state.suppressed++;
      return;
    }
    const suppressed = state.suppressed;
    state.last = now;
    state.suppressed = 0;
    const more = suppressed > 0 ? ` (${suppressed} more since the last report)` : "";
    this.#report(new Error(`Cannot accept connection: ${error.message}${more}`, { cause: error }));
  };

  readonly #onConnection = (socket: net.Socket): void => {
    if (this.#options.tls !== undefined) handshakeDone(socket as tls.TLSSocket);
    if (this.#closed) {
      // A TLS connection whose handshake ends after close() is not served.
      socket.destroy();
      return;
    }
    const { maxSessions } = this.#options;
    if (maxSessions !== undefined && this.#transports.size >= maxSessions) {
      if (this.#options.tls !== undefined) socket.pause();
      this.#waiting.push(socket);
      return;
    }
    this.#serve(socket);
  };

  #serve(socket: net.Socket): void {
    let protocol: Protocol;
    try {
      protocol = this.#factory();
    } catch (error) {
      socket.destroy();
      this.#report(error);
      return;
    }
    // Paused by the server (pauseOnConnect, or queued for a session): resume below,
    // unless the protocol itself paused reading in connectionMade.
    const pausedByServer = socket.isPaused();
    // One options object for every connection: transports keep it, not copies of it.
    this.#transportOptions ??= {
      writeBufferLimits: this.#options.writeBufferLimits,
      idleTimeout: this.#options.idleTimeout,
      clock: this.#options.clock,
      onProtocolError: this.#reportError,
      onLost: this.#onLost,
      names: this.#unixPath === undefined ? undefined : { sockname: this.#unixPath, peername: "" },
    };
    const transport = new Transport(socket, protocol, this.#transportOptions);
    if (!socket.destroyed) this.#transports.add(transport);
    if (pausedByServer && transport.isReading()) socket.resume();
  }

  readonly #onLost = (transport: Transport): void => {
    this.#transports.delete(transport);
    this.#startWaiting();
    this.#checkIdle();
  };

  #startWaiting(): void {
    const max = this.#options.maxSessions ?? Number.POSITIVE_INFINITY;
    while (this.#waiting.length > 0 && this.#transports.size < max) {
      const socket = this.#waiting.shift() as net.Socket;
      if (!socket.destroyed) this.#serve(socket);
    }
  }

  /** Reports an error through `onError`. */
  [kReportError](error: unknown, transport?: Transport): void {
    this.#report(error, transport);
  }

  #report(error: unknown, transport?: Transport): void {
    const err = error instanceof Error ? error : new Error(String(error));
    (this.#options.onError ?? defaultOnError)(err, transport);
  }

  readonly #reportError = (error: Error, transport: Transport): void =>
    this.#report(error, transport);

  /** Counts work (a stream handler) that `waitClosed()` must wait for: +1 when it starts, -1 when it ends. */
  [kTrackTask](delta: 1 | -1): void {
    this.#tasks += delta;
    if (delta < 0) this.#checkIdle();
  }

  #checkIdle(): void {
    if (!this.#closed || this.#transports.size > 0 || this.#tasks > 0) return;
    if (this.#waiting.length > 0) return;
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

  /** The number of connections waiting for a session (`maxSessions`). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** The number of connections refused because of `maxConnections` or `maxConnectionsPerPeer`. */
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

  /**
   * Stops accepting connections. Open connections go on, and so do connections
   * waiting for a session (`maxSessions`); TLS connections still in their
   * handshake are dropped. Idempotent.
   */
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

  /** Closes every connection gracefully: buffered replies are flushed first. Waiting sessions are closed unserved. */
  closeClients(): void {
    this.#dropWaiting();
    for (const transport of this.#transports) transport.close();
  }

  /** Closes every connection at once, dropping buffered data. */
  abortClients(): void {
    this.#dropWaiting();
    for (const transport of this.#transports) transport.abort();
  }

  /** Closes the connections still waiting for a session (`maxSessions`), unserved; active ones go on. */
  abortWaiting(): void {
    this.#dropWaiting();
    this.#checkIdle();
  }

  #dropWaiting(): void {
    for (const socket of this.#waiting.splice(0)) socket.destroy();
  }

  /**
   * Resolves once the server is closed and every connection and handler has
   * finished. Resolves at once on a closed, idle server; waits for `close()`
   * when called on a serving one.
   */
  waitClosed(): Promise<void> {
    const idle = this.#transports.size === 0 && this.#tasks === 0 && this.#waiting.length === 0;
    if (this.#closed && idle) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Graceful stop with a deadline: stops accepting, closes the connections
   * waiting for a session, lets each open one finish (a stream handler reads
   * and answers until its input is quiet; a Protocol is told through
   * `shutdownRequested`, or closed after flushing), and aborts what is left
   * when `options.grace` (default 10 s) ends. See `gracefulShutdown`.
   */
  shutdown(options?: ShutdownOptions): Promise<void> {
    return gracefulShutdown(this, this.#transports, options, this.#options.clock ?? systemClock);
  }

  /** For `await using`: `shutdown()` with its default grace of 10 s, so it cannot hang on a peer that never reads. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
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
  const names = [
    "idleTimeout",
    "maxConnections",
    "maxSessions",
    "maxConnectionsPerPeer",
    "backlog",
  ] as const;
  for (const name of names) {
    const value = options[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(`Invalid server option: ${name} must be an integer >= 0, got ${value}`);
    }
  }
  if (options.idleTimeout !== undefined && options.idleTimeout > MAX_TIMEOUT_MS) {
    throw new RangeError(
      `Invalid server option: idleTimeout must be at most ${MAX_TIMEOUT_MS} ms, got ${options.idleTimeout}`,
    );
  }
  if (options.maxSessions === 0) {
    throw new RangeError("Invalid server option: maxSessions must be at least 1, got 0");
  }
  // Checked here, not at the first connection, where a throw would escape the accept callback.
  if (options.writeBufferLimits !== undefined) resolveWriteBufferLimits(options.writeBufferLimits);
}

/** As asyncio: a socket file left by a server that died is removed before binding; any other file is kept. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Nothing there (or not ours to remove): listen reports what matters.
  }
}
