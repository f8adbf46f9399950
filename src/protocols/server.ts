/**
 * The server: a {@link Listener} that accepts, an {@link Intake} that lets
 * connections in (the front door, admission, TLS, the wait for a session), and
 * the transports it serves and their lifecycle.
 *
 * @module
 */

import type net from "node:net";
import type tls from "node:tls";
import { InvalidStateError, withPeer } from "../errors.js";
import { systemClock } from "./clock.js";
import type { ConnectionInfo } from "./connection-info.js";
import { gracefulShutdown, type ShutdownOptions } from "./graceful-shutdown.js";
import { Intake } from "./intake.js";
import { Listener } from "./listener.js";
import type { Protocol, ProtocolFactory } from "./protocol.js";
import {
  defaultOnError,
  type ListenTarget,
  type ServerOptions,
  validateServerOptions,
} from "./server-options.js";
import { type CloseCause, errorCause, type ServerStats, StatCounters } from "./server-stats.js";
import { kCountBytes, kNoteError, Transport, type TransportOptions } from "./transport.js";
import type { TransportStream } from "./transport-stream.js";

export type { ListenTarget, ServerOptions } from "./server-options.js";
export type { CloseCause, ServerStats } from "./server-stats.js";

/**
 * A listening server: one or more listening sockets (several hosts, dual
 * stack) and the connections they accepted. Made by `createServer` or
 * `startServer`, already listening.
 *
 * Each connection goes: accept → its {@link ConnectionInfo} taken → with
 * `proxyProtocol`, its PROXY header read and the facts made from it → admission
 * (`maxConnections`, `maxConnectionsPerPeer`; refused ones go to `onDrop`) →
 * TLS handshake, if any (with `proxyProtocol` too, it starts on the same
 * socket once the header is read, as behind HAProxy's `send-proxy-v2 ssl`) →
 * a session (`maxSessions`; or it waits) → a
 * {@link Transport} and its protocol's `connectionMade`.
 *
 * Lifecycle: `close()` stops accepting; `closeClients()` / `abortClients()`
 * end the connections; `waitClosed()` resolves once the server is closed and
 * every connection and tracked task has finished.
 */
export class Server implements AsyncDisposable {
  readonly #factory: ProtocolFactory;
  readonly #options: ServerOptions;
  readonly #listener: Listener;
  readonly #intake: Intake;
  readonly #transports = new Set<Transport>();
  #tasks = 0;
  readonly #counters = new StatCounters();
  #closed = false;
  #transportOptions: TransportOptions | undefined;
  #closeWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];

  /** Use `createServer` or `startServer`; this makes a server that does not listen yet. */
  constructor(protocolFactory: ProtocolFactory, options: ServerOptions = {}) {
    validateServerOptions(options);
    this.#factory = protocolFactory;
    this.#options = options;
    const intake = new Intake(options, this.#counters, {
      closed: () => this.#closed,
      serve: (socket, info, release) => this.#serve(socket, info, release),
      startTls: (socket) => this.#listener.startTls(socket),
      reportError: (error) => this.reportError(error),
    });
    this.#intake = intake;
    this.#listener = new Listener({
      tls: options.tls,
      // The PROXY header comes in plaintext first: TLS starts once it is read.
      deferTls: options.proxyProtocol !== undefined,
      backlog: options.backlog ?? 511,
      // With sessions limited, sockets start paused so that waiting ones are not read.
      pauseOnConnect: options.maxSessions !== undefined && options.tls === undefined,
      onAccept: intake.accept,
      onSecure: intake.secure,
      onAcceptError: (error) => this.reportError(error),
      onTlsClientError: intake.handshakeError,
    });
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /**
   * Starts listening on `target`: every address a host name resolves to, on one
   * port. If any address fails, the server is closed (none stays half-bound)
   * and the error rethrown. Does nothing if `signal` has already aborted (the
   * server is closed then).
   * @throws {InvalidStateError} when the server is closed.
   */
  async listen(target: ListenTarget): Promise<void> {
    if (this.#closed) throw new InvalidStateError("Cannot listen: the server is closed");
    if (this.#options.signal?.aborted) {
      this.close();
      return;
    }
    try {
      await this.#listener.listen(target);
    } catch (error) {
      this.close();
      throw error;
    }
    const path = this.#listener.unixPath;
    this.#intake.names = path === undefined ? undefined : { sockname: path, peername: "" };
  }

  /**
   * Takes `stream` as a connection just accepted, with `info` as its facts
   * (the peer address the per-peer limit counts): it goes through the same
   * admission as a socket (`maxConnections`, `maxConnectionsPerPeer` and
   * `onDrop`, then `maxSessions`) and is served by this server's protocol
   * factory, with its idle timeout and clock. For streams that are not
   * sockets: the in-memory connections of `asyncnet/testing`, or bytes from
   * elsewhere. Works whether or not the server listens; a closed server
   * destroys the stream at once. `onDrop` gets the stream as its `socket`.
   *
   * `stream` must behave as a {@link TransportStream} says. The server calls
   * two socket methods a stream may lack, `setNoDelay` and `isPaused`; a
   * no-op and `() => false` are set on it where they are missing (then a
   * connection queued by `maxSessions` is resumed when served, even if its
   * protocol paused reading in `connectionMade`).
   * @throws {InvalidStateError} on a server with the `tls` option: its
   *   handshake needs a socket.
   */
  acceptStream(stream: TransportStream, info: ConnectionInfo): void {
    this.#intake.acceptStream(stream, info);
  }

  #serve(socket: net.Socket, info: ConnectionInfo, release?: () => void): void {
    // From here the transport's loss releases the admission (see #onLost).
    if (release !== undefined) socket.off("close", release);
    let protocol: Protocol;
    try {
      protocol = this.#factory();
    } catch (error) {
      socket.destroy();
      this.#intake.release(info);
      this.reportError(error);
      this.#intake.endSession();
      return;
    }
    // Paused by the server (pauseOnConnect, or queued for a session): resume below,
    // unless the protocol itself paused reading in connectionMade.
    const pausedByServer = socket.isPaused();
    // One options object for every connection: transports keep it, not copies of it.
    this.#transportOptions ??= {
      writeBufferLimits: this.#options.writeBufferLimits,
      idleTimeout: this.#options.idleTimeout,
      closeTimeout: this.#options.closeTimeout,
      clock: this.#options.clock,
      onProtocolError: this.#reportProtocolError,
      onLost: this.#onLost,
      onOpen: this.#onOpen,
      counters: this.#counters,
    };
    const transport = new Transport(socket, protocol, this.#transportOptions, info);
    if (socket.destroyed) {
      // connectionMade failed: the transport is gone, and so is its session.
      this.#intake.endSession();
      return;
    }
    this.#transports.add(transport);
    if (pausedByServer && transport.isReading()) socket.resume();
  }

  readonly #onOpen = (transport: Transport): void => {
    this.#counters.served++;
    const hook = this.#options.onConnection;
    if (hook === undefined) return;
    try {
      hook(transport);
    } catch (error) {
      this.#reportHookError(error, transport);
    }
  };

  readonly #onLost = (transport: Transport, cause: CloseCause, error: Error | undefined): void => {
    this.#counters.closed[cause]++;
    const hook = this.#options.onConnectionClosed;
    if (hook !== undefined) {
      try {
        hook(transport, cause, error);
      } catch (hookError) {
        this.#reportHookError(hookError, transport);
      }
    }
    this.#intake.release(transport.info);
    if (this.#transports.delete(transport)) this.#intake.endSession();
    this.#checkIdle();
  };

  /** A hook's throw: told to `onError`, but neither counted nor held against the connection. */
  #reportHookError(error: unknown, transport: Transport): void {
    const err = error instanceof Error ? error : new Error(String(error));
    try {
      (this.#options.onError ?? defaultOnError)(err, transport);
    } catch {
      // A throwing onError must not break the accept or close path either.
    }
  }

  readonly #reportProtocolError = (error: Error, transport: Transport): void =>
    this.reportError(error, transport);

  /**
   * Reports an error through the `onError` option (default `defaultOnError`:
   * a lost peer in one line, anything else with its stack, on stderr): for a
   * layer built on the server, such as a stream handler that failed. A
   * non-Error value is wrapped in one. A lost-peer error (`isConnectionLost`)
   * without a `peer` gets `transport`'s. Does not close anything.
   */
  reportError(error: unknown, transport?: Transport): void {
    const err = error instanceof Error ? error : new Error(String(error));
    if (transport !== undefined) {
      withPeer(err, transport.info.peername);
      // The connection's close is then counted under this error's cause.
      transport[kNoteError](err);
      if (errorCause(err) === "error") this.#counters.handlerErrors++;
    }
    (this.#options.onError ?? defaultOnError)(err, transport);
  }

  /**
   * Makes `waitClosed()` wait for `task` too: for work a layer built on the
   * server runs per connection (a stream handler). Whether it fulfils or
   * rejects, it only counts until it settles: report its failure with
   * `reportError`, as the rejection is not seen here.
   */
  trackTask(task: PromiseLike<unknown>): void {
    this.beginTask();
    task.then(this.#taskDone, this.#taskDone);
  }

  /**
   * Counts one task that `waitClosed()` waits for, until the matching
   * {@link Server.endTask}: `trackTask` without a promise of its own, for a
   * layer that already follows its work (the streams layer, whose handler's
   * end closes the connection: one promise per idle connection less).
   */
  beginTask(): void {
    this.#tasks++;
  }

  /**
   * Ends a task counted by {@link Server.beginTask}; call it exactly once per
   * `beginTask`.
   * @throws {InvalidStateError} when no task is counted.
   */
  endTask(): void {
    if (this.#tasks === 0) throw new InvalidStateError("Cannot end task: no task was begun");
    this.#tasks--;
    this.#checkIdle();
  }

  readonly #taskDone = (): void => this.endTask();

  #checkIdle(): void {
    if (!this.#closed || this.#transports.size > 0 || this.#tasks > 0) return;
    if (this.#intake.waiting > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Whether the server is accepting connections. */
  isServing(): boolean {
    return !this.#closed && this.#listener.listening;
  }

  /** The number of open connections. */
  get connections(): number {
    return this.#transports.size;
  }

  /**
   * The transports of the open connections (those {@link connections}
   * counts: served, not waiting for a session), in the order they were
   * served: for a broadcast, `for (const t of server.transports()) t.write(msg)`.
   * A live view: a connection closed during the iteration is skipped if not
   * reached yet, one served during it is reached. A transport that is closing
   * is still listed until its connection is lost (its writes are dropped).
   */
  transports(): IterableIterator<Transport> {
    return this.#transports.values();
  }

  /** The number of connections waiting for a session (`maxSessions`). */
  get waiting(): number {
    return this.#intake.waiting;
  }

  /** The number of connections refused because of `maxConnections` or `maxConnectionsPerPeer`. */
  get dropped(): number {
    return this.#intake.dropped;
  }

  /**
   * A snapshot of the server's counters (see {@link ServerStats}): a new plain
   * object each call, cheap enough to call per scrape. Counting is always on.
   */
  stats(): ServerStats {
    // Open connections' bytes are their sockets' own counts, added up now.
    const live = { bytesReceived: 0, bytesSent: 0 };
    for (const transport of this.#transports) transport[kCountBytes](live);
    return this.#counters.snapshot(this.#transports.size, this.#intake.waiting, live);
  }

  /**
   * With `proxyProtocol`: the number of connections refused at the front door
   * (untrusted peer, malformed or incomplete header, header timeout); 0 without.
   */
  get proxyRefused(): number {
    return this.#intake.proxyRefused;
  }

  /**
   * Replaces the TLS certificate, key and other secure-context options for the
   * connections accepted from now on; open connections, and those in their
   * handshake, keep the context they started with. `options` replaces the
   * whole context (Node's `tls.Server.setSecureContext`): give `key`, `cert`,
   * `ca`, ... again, not only what changed. `requestCert` and
   * `rejectUnauthorized` stay as the server was created.
   * @throws {InvalidStateError} when the server was not created with `tls`.
   * @throws Node's error for a key or certificate that cannot be parsed (or
   *   that do not match); the old context is kept then.
   */
  setSecureContext(options: tls.SecureContextOptions): void {
    this.#listener.setSecureContext(options);
  }

  /** The address of the first listening socket (port 0 resolved to the real port), or its Unix path. */
  address(): net.AddressInfo | string | null {
    return this.#listener.address();
  }

  /** The addresses of every listening socket, one per host the server was bound to. */
  get sockets(): (net.AddressInfo | string)[] {
    return this.#listener.addresses;
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
   * Stops accepting connections and removes the Unix socket file it made (only
   * if that file is still the one it made). Open connections go on, and so do
   * connections waiting for a session (`maxSessions`); TLS connections still
   * in their handshake are dropped. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    // Like a TLS handshake in progress: a connection still sending its header is dropped.
    this.#intake.close();
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
    this.#intake.dropWaiting();
  }

  /**
   * Resolves once the server is closed and every connection and handler has
   * finished. Resolves at once on a closed, idle server; waits for `close()`
   * when called on a serving one.
   */
  waitClosed(): Promise<void> {
    const idle = this.#transports.size === 0 && this.#tasks === 0 && this.#intake.waiting === 0;
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
