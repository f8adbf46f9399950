/**
 * A server's way in: each connection from its accept to a session.
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
import { handshakeDone, resolveHandshakeTimeout, timeHandshake } from "./handshake-timeout.js";
import { ProxyFrontDoor, proxiedConnectionInfo, resolveProxyProtocol } from "./proxy-front-door.js";
import type { ServerOptions } from "./server-options.js";
import type { StatCounters } from "./server-stats.js";
import type { TransportStream } from "./transport-stream.js";

/**
 * A connection waiting for a session: its socket, the facts taken at accept,
 * and (on a plain server counting connections) the close listener that
 * releases its admission while it waits.
 */
type Waiting = readonly [socket: net.Socket, info: ConnectionInfo, release?: () => void];

/** What the intake needs of its server. */
export interface IntakeHooks {
  /** Whether the server is closed: nothing more is let in. */
  closed(): boolean;
  /**
   * Serves a connection that has its session; `release` is its own close
   * listener while it waited, to be removed (its transport's loss releases it
   * from then on, through {@link Intake.release}).
   */
  serve(socket: net.Socket, info: ConnectionInfo, release?: () => void): void;
  /** Starts TLS on an admitted socket whose PROXY header was read. */
  startTls(socket: net.Socket): void;
  /** Reports an error of the way in (a throwing hook, a refused PROXY header). */
  reportError(error: unknown): void;
}

/**
 * @internal The way in of a {@link Server}'s connections: accept → its
 * {@link ConnectionInfo} taken → with `proxyProtocol`, the PROXY header read
 * and the facts made from it → admission (`maxConnections`,
 * `maxConnectionsPerPeer`; refused ones go to `onDrop`) → the TLS handshake,
 * if any → a session (`maxSessions`; or it waits) → the server serves it.
 */
export class Intake {
  readonly #options: ServerOptions;
  readonly #counters: StatCounters;
  readonly #hooks: IntakeHooks;
  readonly #admission: Admission<Waiting>;
  readonly #handshakeTimeout: number;
  readonly #frontDoor: ProxyFrontDoor | undefined;
  /**
   * TLS sockets in their handshake, with their facts, while `onHandshakeError`
   * wants them, or (with `proxyProtocol`) the header's facts must outlive it.
   */
  readonly #handshaking = new WeakMap<net.Socket, ConnectionInfo>();
  #names: EndNames | undefined;
  #dropped = 0;

  constructor(options: ServerOptions, counters: StatCounters, hooks: IntakeHooks) {
    this.#options = options;
    this.#counters = counters;
    this.#hooks = hooks;
    this.#handshakeTimeout = resolveHandshakeTimeout(options.tls ?? {});
    this.#admission = new Admission<Waiting>(options, ([socket]) => socket.destroyed);
    const proxy = options.proxyProtocol;
    if (proxy !== undefined) {
      const onRefused = proxy.onRefused;
      this.#frontDoor = new ProxyFrontDoor(
        resolveProxyProtocol(proxy),
        options.clock ?? systemClock,
        (socket, info) => this.#admit(socket, info),
        (error, info) =>
          onRefused === undefined ? hooks.reportError(error) : onRefused(error, info),
      );
    }
  }

  /** The names of a Unix socket's ends, once the server listens on one. */
  set names(names: EndNames | undefined) {
    this.#names = names;
  }

  /** The number of connections waiting for a session. */
  get waiting(): number {
    return this.#admission.waiting;
  }

  /** The number of connections refused because of `maxConnections` or `maxConnectionsPerPeer`. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Connections refused at the PROXY front door; 0 without one. */
  get proxyRefused(): number {
    return this.#frontDoor?.refused ?? 0;
  }

  /** The listener's accept. */
  readonly accept = (socket: net.Socket): void => {
    this.#counters.accepted++;
    if (this.#hooks.closed()) {
      socket.destroy();
      return;
    }
    // The facts are taken once, here: they outlive the socket (a peer that resets
    // at once still has an address to report) and the admission reads them too.
    const info = captureConnectionInfo(socket, this.#names);
    if (this.#frontDoor === undefined) this.#admit(socket, info);
    else this.#frontDoor.accept(socket, info);
  };

  /** See `Server.acceptStream`. */
  acceptStream(stream: TransportStream, info: ConnectionInfo): void {
    if (this.#options.tls !== undefined) {
      throw new InvalidStateError("Cannot accept a stream: the server serves TLS over sockets");
    }
    this.#counters.accepted++;
    if (this.#hooks.closed()) {
      stream.destroy();
      return;
    }
    // As pauseOnConnect does for sockets: one waiting for a session is not read.
    if (this.#options.maxSessions !== undefined) stream.pause();
    const socket = stream as TransportStream & { isPaused?(): boolean };
    socket.isPaused ??= () => false;
    socket.setNoDelay ??= () => socket;
    this.#admit(socket as unknown as net.Socket, info);
  }

  /** The listener's end of a TLS handshake. */
  readonly secure = (socket: tls.TLSSocket): void => {
    handshakeDone(socket);
    // Taken again now: the handshake's outcome is part of the facts.
    const info = captureConnectionInfo(socket, this.#names);
    // Behind a PROXY header, the client is still the header's: both facts are kept.
    const proxy = this.#frontDoor && this.#handshakeFacts(socket)?.proxy;
    this.#ready(socket, proxy ? proxiedConnectionInfo(info, proxy.header) : info);
  };

  /** The listener's failed TLS handshake. */
  readonly handshakeError = (error: Error, socket: tls.TLSSocket): void => {
    const report = this.#options.onHandshakeError;
    if (report === undefined) return;
    // The socket may be destroyed already (Node drops a refused client certificate
    // silently): its facts come from the accept.
    const info = this.#handshakeFacts(socket) ?? captureConnectionInfo(socket, this.#names);
    try {
      report(error, info, socket);
    } catch (thrown) {
      this.#hooks.reportError(thrown);
    }
  };

  /** Releases a plain connection's admission, now that its socket is done with (see `#releaseOnClose`). */
  release(info: ConnectionInfo): void {
    if (!this.#admission.countsOpen || this.#options.tls !== undefined) return;
    this.#admission.release(this.#admission.countsPeers ? peerKey(info) : undefined);
  }

  /** A session ended: serves the connections that waited for one, as far as they fit. */
  endSession(): void {
    for (const [socket, info, release] of this.#admission.endSession()) {
      this.#hooks.serve(socket, info, release);
    }
  }

  /** Destroys the connections waiting for a session, unserved. */
  dropWaiting(): void {
    for (const [socket] of this.#admission.takeWaiting()) socket.destroy();
  }

  /** The server closed: a connection still sending its PROXY header is dropped. */
  close(): void {
    this.#frontDoor?.close();
  }

  /**
   * The door: admission by the connection's facts. A front-door layer (PROXY
   * protocol) that learns the real peer from a header calls this after it,
   * with the facts it made, instead of `accept` doing so at once.
   */
  #admit(socket: net.Socket, info: ConnectionInfo): void {
    const refused = this.#admission.admit(peerKey(info));
    if (refused !== undefined) {
      this.#drop(socket, refused, info);
      return;
    }
    if (this.#options.noDelay !== false) socket.setNoDelay(true);
    if (this.#options.tls === undefined) this.#ready(socket, info);
    else {
      // Every admitted socket counts until it closes, served or waiting or still in
      // its handshake: a client that never says hello holds a descriptor too.
      this.#releaseOnClose(socket, info);
      const proxied = this.#frontDoor !== undefined;
      if (proxied || this.#options.onHandshakeError !== undefined) {
        this.#handshaking.set(socket, info);
      }
      // Behind a PROXY header the timer runs from the header's end, as the handshake does.
      timeHandshake(socket, this.#handshakeTimeout, this.#options.clock ?? systemClock);
      if (proxied) this.#hooks.startTls(socket);
    }
  }

  /**
   * The facts kept at admission for `socket`, a TLS socket. Node keeps the raw
   * socket as `_parent`; Bun accepts the TLS socket itself.
   */
  #handshakeFacts(socket: tls.TLSSocket): ConnectionInfo | undefined {
    const raw = (socket as unknown as { _parent?: net.Socket | null })._parent;
    return (raw ? this.#handshaking.get(raw) : undefined) ?? this.#handshaking.get(socket);
  }

  /**
   * Releases the admission of `socket` when it closes, through a listener of its
   * own (returned, to be removed): for a TLS socket, whose transport is on another
   * socket, and a plain one while it waits for a session. A served plain socket
   * needs none: its transport's loss releases it (see {@link Intake.release}),
   * which spares every connection a `once` wrapper, its state and a second
   * "close" listener.
   */
  #releaseOnClose(socket: net.Socket, info: ConnectionInfo): (() => void) | undefined {
    if (!this.#admission.countsOpen) return undefined;
    const peer = this.#admission.countsPeers ? peerKey(info) : undefined;
    const release =
      peer === undefined ? this.#releaseAnonymous : () => this.#admission.release(peer);
    socket.once("close", release);
    return release;
  }

  readonly #releaseAnonymous = (): void => this.#admission.release(undefined);

  #drop(socket: net.Socket, reason: DropReason, info: ConnectionInfo): void {
    this.#dropped++;
    this.#counters.refused[reason]++;
    try {
      this.#options.onDrop?.(socket, reason, info);
    } catch (error) {
      this.#hooks.reportError(error);
    } finally {
      socket.destroy();
    }
  }

  /** An admitted connection ready to be served: now, or when a session is free. */
  #ready(socket: net.Socket, info: ConnectionInfo): void {
    if (this.#hooks.closed()) {
      // A TLS connection whose handshake ends after close() is not served.
      socket.destroy();
      this.release(info);
      return;
    }
    const item: [net.Socket, ConnectionInfo, (() => void)?] = [socket, info];
    if (this.#admission.claimSession(item)) {
      this.#hooks.serve(socket, info);
    } else if (this.#options.tls === undefined) {
      // Only a plain socket that waits needs a close listener of its own (see #releaseOnClose).
      item[2] = this.#releaseOnClose(socket, info);
    } else {
      socket.pause();
    }
  }
}
