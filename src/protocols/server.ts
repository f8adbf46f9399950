/**
 * The server: a {@link Listener} that accepts, an {@link Admission} that lets
 * connections in and starts them, and the lifecycle around the transports.
 *
 * @module
 */

import type net from "node:net";
import type tls from "node:tls";
import { InvalidStateError } from "../errors.js";
import { Admission, type DropReason } from "./admission.js";
import { systemClock } from "./clock.js";
import {
  captureConnectionInfo,
  type ConnectionInfo,
  type EndNames,
  peerKey,
} from "./connection-info.js";
import { gracefulShutdown, type ShutdownOptions } from "./graceful-shutdown.js";
import { handshakeDone, resolveHandshakeTimeout, timeHandshake } from "./handshake-timeout.js";
import { Listener } from "./listener.js";
import type { Protocol, ProtocolFactory } from "./protocol.js";
import {
  defaultOnError,
  type ListenTarget,
  type ServerOptions,
  validateServerOptions,
} from "./server-options.js";
import { Transport, type TransportOptions } from "./transport.js";

export type { ListenTarget, ServerOptions } from "./server-options.js";

/** A connection waiting for a session: its socket and the facts taken at accept. */
type Waiting = readonly [socket: net.Socket, info: ConnectionInfo];

/**
 * A listening server: one or more listening sockets (several hosts, dual
 * stack) and the connections they accepted. Made by `createServer` or
 * `startServer`, already listening.
 *
 * Each connection goes: accept → its {@link ConnectionInfo} taken → admission
 * (`maxConnections`, `maxConnectionsPerPeer`; refused ones go to `onDrop`) →
 * TLS handshake, if any → a session (`maxSessions`; or it waits) → a
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
  readonly #admission: Admission<Waiting>;
  readonly #transports = new Set<Transport>();
  #tasks = 0;
  #dropped = 0;
  #closed = false;
  #names: EndNames | undefined;
  #transportOptions: TransportOptions | undefined;
  #closeWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  readonly #handshakeTimeout: number;
  /** TLS sockets in their handshake, with their facts, while `onHandshakeError` wants them. */
  readonly #handshaking = new WeakMap<net.Socket, ConnectionInfo>();

  /** Use `createServer` or `startServer`; this makes a server that does not listen yet. */
  constructor(protocolFactory: ProtocolFactory, options: ServerOptions = {}) {
    validateServerOptions(options);
    this.#handshakeTimeout = resolveHandshakeTimeout(options.tls ?? {});
    this.#factory = protocolFactory;
    this.#options = options;
    this.#admission = new Admission<Waiting>(options, ([socket]) => socket.destroyed);
    this.#listener = new Listener({
      tls: options.tls,
      backlog: options.backlog ?? 511,
      // With sessions limited, sockets start paused so that waiting ones are not read.
      pauseOnConnect: options.maxSessions !== undefined && options.tls === undefined,
      onAccept: this.#onAccept,
      onSecure: this.#onSecure,
      onAcceptError: (error) => this.reportError(error),
      onTlsClientError: this.#onHandshakeError,
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
    this.#names = path === undefined ? undefined : { sockname: path, peername: "" };
  }

  readonly #onAccept = (socket: net.Socket): void => {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    // The facts are taken once, here: they outlive the socket (a peer that resets
    // at once still has an address to report) and the admission reads them too.
    this.#admit(socket, captureConnectionInfo(socket, this.#names));
  };

  /**
   * The door: admission by the connection's facts. A front-door layer (PROXY
   * protocol) that learns the real peer from a header calls this after it,
   * with the facts it made, instead of `#onAccept` doing so at once.
   */
  #admit(socket: net.Socket, info: ConnectionInfo): void {
    const peer = peerKey(info);
    const refused = this.#admission.admit(peer);
    if (refused !== undefined) {
      this.#drop(socket, refused, info);
      return;
    }
    // Every admitted socket counts until it closes, served or waiting or (over TLS)
    // still in its handshake: a client that never says hello holds a descriptor too.
    // Without a limit to count for, no listener: it would be a cost on every connection.
    if (this.#admission.countsPeers && peer !== undefined) {
      socket.once("close", () => this.#admission.release(peer));
    } else if (this.#admission.countsOpen) {
      socket.once("close", this.#releaseAnonymous);
    }
    if (this.#options.noDelay !== false) socket.setNoDelay(true);
    if (this.#options.tls === undefined) this.#ready(socket, info);
    else {
      if (this.#options.onHandshakeError !== undefined) this.#handshaking.set(socket, info);
      timeHandshake(socket, this.#handshakeTimeout, this.#options.clock ?? systemClock);
    }
  }

  readonly #onHandshakeError = (error: Error, socket: tls.TLSSocket): void => {
    const report = this.#options.onHandshakeError;
    if (report === undefined) return;
    // The socket may be destroyed already (Node drops a refused client certificate
    // silently): its facts come from the accept. Node keeps the raw socket as `_parent`.
    const raw = (socket as unknown as { _parent?: net.Socket | null })._parent;
    const info =
      (raw ? this.#handshaking.get(raw) : undefined) ?? captureConnectionInfo(socket, this.#names);
    try {
      report(error, info, socket);
    } catch (thrown) {
      this.reportError(thrown);
    }
  };

  readonly #releaseAnonymous = (): void => this.#admission.release(undefined);

  readonly #onSecure = (socket: tls.TLSSocket): void => {
    handshakeDone(socket);
    // Taken again now: the handshake's outcome is part of the facts.
    this.#ready(socket, captureConnectionInfo(socket, this.#names));
  };

  #drop(socket: net.Socket, reason: DropReason, info: ConnectionInfo): void {
    this.#dropped++;
    try {
      this.#options.onDrop?.(socket, reason, info);
    } catch (error) {
      this.reportError(error);
    } finally {
      socket.destroy();
    }
  }

  /** An admitted connection ready to be served: now, or when a session is free. */
  #ready(socket: net.Socket, info: ConnectionInfo): void {
    if (this.#closed) {
      // A TLS connection whose handshake ends after close() is not served.
      socket.destroy();
      return;
    }
    if (this.#admission.claimSession([socket, info])) {
      this.#serve(socket, info);
    } else if (this.#options.tls !== undefined) {
      socket.pause();
    }
  }

  #serve(socket: net.Socket, info: ConnectionInfo): void {
    let protocol: Protocol;
    try {
      protocol = this.#factory();
    } catch (error) {
      socket.destroy();
      this.reportError(error);
      this.#endSession();
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
      onProtocolError: this.#reportProtocolError,
      onLost: this.#onLost,
    };
    const transport = new Transport(socket, protocol, this.#transportOptions, info);
    if (socket.destroyed) {
      // connectionMade failed: the transport is gone, and so is its session.
      this.#endSession();
      return;
    }
    this.#transports.add(transport);
    if (pausedByServer && transport.isReading()) socket.resume();
  }

  readonly #onLost = (transport: Transport): void => {
    if (this.#transports.delete(transport)) this.#endSession();
    this.#checkIdle();
  };

  #endSession(): void {
    for (const [socket, info] of this.#admission.endSession()) this.#serve(socket, info);
  }

  readonly #reportProtocolError = (error: Error, transport: Transport): void =>
    this.reportError(error, transport);

  /**
   * Reports an error through the `onError` option (default: stderr, with its
   * stack): for a layer built on the server, such as a stream handler that
   * failed. A non-Error value is wrapped in one. Does not close anything.
   */
  reportError(error: unknown, transport?: Transport): void {
    const err = error instanceof Error ? error : new Error(String(error));
    (this.#options.onError ?? defaultOnError)(err, transport);
  }

  /**
   * Makes `waitClosed()` wait for `task` too: for work a layer built on the
   * server runs per connection (a stream handler). Whether it fulfils or
   * rejects, it only counts until it settles: report its failure with
   * `reportError`, as the rejection is not seen here.
   */
  trackTask(task: PromiseLike<unknown>): void {
    this.#tasks++;
    task.then(this.#taskDone, this.#taskDone);
  }

  readonly #taskDone = (): void => {
    this.#tasks--;
    this.#checkIdle();
  };

  #checkIdle(): void {
    if (!this.#closed || this.#transports.size > 0 || this.#tasks > 0) return;
    if (this.#admission.waiting > 0) return;
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

  /** The number of connections waiting for a session (`maxSessions`). */
  get waiting(): number {
    return this.#admission.waiting;
  }

  /** The number of connections refused because of `maxConnections` or `maxConnectionsPerPeer`. */
  get dropped(): number {
    return this.#dropped;
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
    for (const [socket] of this.#admission.takeWaiting()) socket.destroy();
  }

  /**
   * Resolves once the server is closed and every connection and handler has
   * finished. Resolves at once on a closed, idle server; waits for `close()`
   * when called on a serving one.
   */
  waitClosed(): Promise<void> {
    const idle = this.#transports.size === 0 && this.#tasks === 0 && this.#admission.waiting === 0;
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
