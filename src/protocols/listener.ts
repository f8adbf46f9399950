/**
 * The listening half of a server: which addresses a host means, one listening
 * socket per address on one port (dual stack), Unix socket files, and accept
 * errors that must never stop the server.
 *
 * @module
 */

import { InvalidStateError } from "../errors.js";
import { withoutNodeHandshakeTimer } from "./handshake-timeout.js";
import { lookup } from "node:dns/promises";
import net from "node:net";
import tls from "node:tls";
import { ReportLimiter } from "./report-limiter.js";
import type { ListenTarget } from "./server-options.js";
import { listenUnix } from "./unix-socket.js";

/** What a {@link Listener} makes its sockets with, and where it hands connections. */
export interface ListenerOptions {
  /** Node TLS server options: when given, every listening socket is TLS. */
  tls?: tls.TlsOptions;
  /**
   * With `tls`: the listening sockets are plain TCP, and an accepted socket
   * starts its TLS handshake only when handed to {@link Listener.startTls}
   * (after a PROXY header, which comes in plaintext first). Default `false`.
   */
  deferTls?: boolean;
  /** Length of the kernel's accept queue. */
  backlog: number;
  /** Start accepted sockets paused (plain TCP only; TLS sockets must read their handshake). */
  pauseOnConnect: boolean;
  /** Every accepted socket, before any TLS handshake (and, with `deferTls`, before `startTls`). */
  onAccept: (socket: net.Socket) => void;
  /** TLS only: a socket whose handshake finished. */
  onSecure: (socket: tls.TLSSocket) => void;
  /** A failed accept (EMFILE and the like), at most one a second, with a count of those skipped. */
  onAcceptError: (error: Error) => void;
  /** TLS only: a handshake that failed (the socket is destroyed right after). */
  onTlsClientError?: (error: Error, socket: tls.TLSSocket) => void;
}

/**
 * One or more listening sockets for one server. `close()` stops them all and
 * removes the Unix socket files this listener made (only those: see
 * `unix-socket.ts`).
 */
export class Listener {
  readonly #options: ListenerOptions;
  readonly #servers: net.Server[] = [];
  /** Unix sockets: the path each listens on, which Node may not report (see `listenUnix`). */
  readonly #paths = new Map<net.Server, string>();
  readonly #cleanups: (() => void)[] = [];
  /** With `deferTls`: the TLS server that never listens, only handshakes the sockets given to it. */
  readonly #deferred: tls.Server | undefined;
  #closed = false;
  readonly #acceptErrors = new ReportLimiter();

  constructor(options: ListenerOptions) {
    this.#options = options;
    if (options.tls !== undefined && options.deferTls === true) {
      this.#deferred = this.#tlsServer({});
    }
  }

  /**
   * Listens on `target`: every address a host resolves to, on one port (port 0:
   * the first address picks it, the others take the same), or a Unix socket.
   * Rejects on the first address that fails; the ones already bound stay
   * until `close()`.
   */
  async listen(target: ListenTarget): Promise<void> {
    if ("path" in target) {
      const { server, cleanup } = await listenUnix(target.path, (path) =>
        this.#listenOne({ path }),
      );
      this.#paths.set(server, target.path);
      if (this.#closed) cleanup();
      else this.#cleanups.push(cleanup);
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
    const { pauseOnConnect } = this.#options;
    const listener =
      this.#options.tls === undefined || this.#deferred !== undefined
        ? net.createServer({ allowHalfOpen: true, pauseOnConnect })
        : this.#tlsServer({ pauseOnConnect });
    listener.on("connection", this.#options.onAccept);
    await new Promise<void>((resolve, reject) => {
      listener.once("error", reject);
      listener.listen({ backlog: this.#options.backlog, ...options }, () => {
        listener.off("error", reject);
        resolve();
      });
    });
    // Only now: a failed listen rejects, it is not also an error "in a connection".
    // Accept errors (EMFILE and the like) must never stop a server; libuv keeps accepting.
    listener.on("error", this.#onAcceptError);
    this.#servers.push(listener);
    if (this.#closed) listener.close();
    return listener;
  }

  readonly #halfOpenOnceSecure = (socket: tls.TLSSocket): void => {
    socket.allowHalfOpen = true;
  };

  // A TLS socket is half-open only once its handshake is done: before, an EOF
  // must end it (with half-open on, Node leaves a client that sent FIN mid-hello
  // waiting for the handshake timeout). Node's TLS socket takes the raw one's.
  #tlsServer(serverOptions: net.ServerOpts): tls.Server {
    const server = tls.createServer(
      withoutNodeHandshakeTimer({ ...serverOptions, allowHalfOpen: false, ...this.#options.tls }),
    );
    server.on("secureConnection", this.#halfOpenOnceSecure);
    server.on("secureConnection", this.#options.onSecure);
    // A failed handshake only emits this event (the timeout is the library's own):
    // Node leaves the socket open, so a client that never says hello would stay.
    server.on("tlsClientError", this.#onTlsClientError);
    return server;
  }

  /**
   * With `deferTls`: starts the server-side TLS handshake on `socket`, an
   * accepted plain socket, exactly as a TLS listening socket does at accept
   * (Node's own TLS server takes it: SNI, ALPN, client certificates, the
   * current secure context); `onSecure` or `onTlsClientError` follow. Bytes
   * the socket still buffers (put back with `unshift`) are the handshake's
   * first: a ClientHello that came in the same segment as the PROXY header.
   * @throws {InvalidStateError} when the listener was not made with `deferTls`.
   */
  startTls(socket: net.Socket): void {
    if (this.#deferred === undefined) {
      throw new InvalidStateError("Cannot start TLS: the listener does not defer TLS");
    }
    // A net.Server's "connection" is how Node's TLS server wraps a raw socket;
    // the TLS socket is made half-open once secure, as the listening ones.
    socket.allowHalfOpen = false;
    this.#deferred.emit("connection", socket);
  }

  readonly #onTlsClientError = (error: Error, socket: tls.TLSSocket): void => {
    try {
      this.#options.onTlsClientError?.(error, socket);
    } finally {
      socket.destroy();
    }
  };

  /**
   * Replaces the secure context of every TLS listening socket, for connections
   * accepted from now on (open ones keep theirs). `options` replaces the whole
   * context, as Node's `tls.Server.setSecureContext`: pass every field (`key`,
   * `cert`, `ca`, ...), not only the changed ones.
   * @throws {InvalidStateError} when the listener is not TLS.
   * @throws the error of `tls.createSecureContext` for a bad key or certificate;
   *   no listening socket is changed then.
   */
  setSecureContext(options: tls.SecureContextOptions): void {
    if (this.#options.tls === undefined) {
      throw new InvalidStateError("Cannot set the secure context: the server is not TLS");
    }
    // Checked once up front, so that a bad key leaves every listening socket as it was.
    tls.createSecureContext(options);
    if (this.#deferred !== undefined) {
      this.#deferred.setSecureContext(options);
      return;
    }
    for (const server of this.#servers) (server as tls.Server).setSecureContext(options);
  }

  // libuv keeps accepting after EMFILE/ENFILE (it sheds the backlog through a
  // reserved descriptor), so an accept error is only reported, at most once a second.
  readonly #onAcceptError = (error: Error): void => {
    const more = this.#acceptErrors.take(Date.now());
    if (more === undefined) return;
    this.#options.onAcceptError(
      new Error(`Cannot accept connection: ${error.message}${more}`, { cause: error }),
    );
  };

  /** Whether some socket listens and `close()` was not called. */
  get listening(): boolean {
    return !this.#closed && this.#servers.length > 0;
  }

  /** The path of the first Unix socket listened on, if any. */
  get unixPath(): string | undefined {
    return this.#paths.values().next().value;
  }

  /** The address of the first listening socket (port 0 resolved to the real port). */
  address(): net.AddressInfo | string | null {
    const first = this.#servers[0];
    return first === undefined ? null : this.#addressOf(first);
  }

  /** The addresses of every listening socket. */
  get addresses(): (net.AddressInfo | string)[] {
    return this.#servers.flatMap((server) => this.#addressOf(server) ?? []);
  }

  #addressOf(server: net.Server): net.AddressInfo | string | null {
    return this.#paths.get(server) ?? server.address();
  }

  /** Stops every listening socket and removes the Unix socket files made here. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const server of this.#servers) server.close();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
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
