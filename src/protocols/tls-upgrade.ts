/**
 * One STARTTLS upgrade in progress: the plain socket's last plaintext
 * flushed, the TLS socket made over it, its handshake timed and checked.
 *
 * @module
 */

import type net from "node:net";
import tls from "node:tls";
import { abortReason, ConnectionClosedError, TimeoutError, TlsHandshakeError } from "../errors.js";
import type { Clock, ClockTimer } from "./clock.js";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from "./handshake-timeout.js";
import type { StartTlsOptions } from "./start-tls.js";

/** @internal What the transport lends an upgrade. */
export interface UpgradeHost {
  readonly clock: Clock;
  /** Moves the transport onto `secure` (its listeners, its held writes). */
  swap(secure: tls.TLSSocket): void;
  /** The upgrade ended: `error` closes the connection, none makes it secure. */
  finish(error: Error | undefined, secure: tls.TLSSocket | undefined): void;
}

const EMPTY = Buffer.alloc(0);
const noop = (): void => {};

/**
 * @internal One pending upgrade of a transport's socket. The transport pauses
 * the socket before making it, passes every event of its stream here while it
 * is pending ({@link TlsUpgrade.hold}, {@link TlsUpgrade.fail}) and settles
 * through the host's `finish`, synchronously, so that `connectionLost` sees
 * the upgrade's error and not Node's.
 */
export class TlsUpgrade {
  readonly promise: Promise<void>;
  readonly #socket: net.Socket;
  readonly #options: StartTlsOptions;
  readonly #host: UpgradeHost;
  readonly #held: Buffer[] = [];
  // The transport's writes made before the TLS socket exists: they go out over TLS.
  #writes: (Uint8Array | string)[] | undefined;
  #resolve!: () => void;
  #reject!: (error: Error) => void;
  #secure: tls.TLSSocket | undefined;
  #timer: ClockTimer | undefined;
  #done = false;
  readonly #onAbort = (): void => {
    this.fail(abortReason(this.#options.signal as AbortSignal));
  };

  constructor(socket: net.Socket, options: StartTlsOptions, leftover: Buffer, host: UpgradeHost) {
    this.#socket = socket;
    this.#options = options;
    this.#host = host;
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (leftover.length > 0) this.#held.push(leftover);
  }

  /** Starts the upgrade; it may end (through the host's `finish`) before this returns. */
  start(): void {
    const options = this.#options;
    const socket = this.#socket;
    const leftover = this.#held[0] ?? EMPTY;
    const { signal } = options;
    if (signal?.aborted) {
      this.fail(abortReason(signal));
      return;
    }
    if (options.bufferedPlaintext === "reject") {
      const early = leftover.length + socket.readableLength;
      if (early > 0) {
        this.fail(
          new TlsHandshakeError(
            `Cannot start TLS: ${early} bytes of plaintext arrived after the command`,
          ),
        );
        return;
      }
    }
    signal?.addEventListener("abort", this.#onAbort, { once: true });
    const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.#timer = this.#host.clock.schedule(Math.ceil(timeout), () => {
      this.#timer = undefined;
      const cause = new TimeoutError(`TLS handshake timed out after ${timeout} ms`);
      this.fail(
        new TlsHandshakeError(`Cannot complete TLS handshake: ${cause.message}`, { cause }),
      );
    });
    // The plaintext reply (`220 ready`) must be on the wire before the TLS layer
    // takes the socket's handle: writes still queued in the plain socket would
    // bypass TLS afterwards.
    if (socket.writableLength === 0) this.#wrap();
    else socket.write(EMPTY, () => this.#wrap());
  }

  /** Keeps a write of the transport's, made before the socket was wrapped, for {@link TlsUpgrade.takeWrites}. */
  holdWrite(data: Uint8Array | string): void {
    (this.#writes ??= []).push(data);
  }

  /** The writes {@link TlsUpgrade.holdWrite} kept, in order, handed over once (when the TLS socket takes over). */
  takeWrites(): (Uint8Array | string)[] | undefined {
    const writes = this.#writes;
    this.#writes = undefined;
    return writes;
  }

  /** Whether the socket was wrapped (the transport's stream is the TLS socket). */
  get wrapped(): boolean {
    return this.#secure !== undefined;
  }

  /**
   * Bytes the plain socket delivered while the upgrade waited for its reply
   * to flush: handshake bytes under `"feed"`, a failure under `"reject"`,
   * never the application's.
   */
  hold(data: Buffer): void {
    if (this.#done) return;
    if (this.#options.bufferedPlaintext !== "reject") {
      this.#held.push(data);
      return;
    }
    this.fail(
      new TlsHandshakeError(
        `Cannot start TLS: ${data.length} bytes of plaintext arrived after the command`,
      ),
    );
  }

  /**
   * Ends the upgrade with `error`: an AbortError, ConnectionClosedError (the
   * application closed) or TlsHandshakeError as it is, any other (the
   * stream's, an idle timeout's) as the cause of a TlsHandshakeError; none
   * means the peer closed the connection. Does nothing once ended.
   */
  fail(error?: Error): void {
    if (this.#done) return;
    const failure =
      error === undefined
        ? new TlsHandshakeError("Cannot complete TLS handshake: the peer closed the connection")
        : error instanceof TlsHandshakeError ||
            error instanceof ConnectionClosedError ||
            error.name === "AbortError"
          ? error
          : new TlsHandshakeError(`Cannot complete TLS handshake: ${error.message}`, {
              cause: error,
            });
    this.#end(failure);
  }

  #end(error: Error | undefined): void {
    this.#done = true;
    if (this.#timer !== undefined) this.#host.clock.cancel(this.#timer);
    this.#timer = undefined;
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    const secure = this.#secure;
    this.#host.finish(error, error === undefined ? secure : undefined);
    if (error === undefined) {
      this.#resolve();
    } else {
      secure?.destroy();
      this.#socket.destroy();
      this.#reject(error);
    }
  }

  #wrap(): void {
    if (this.#done) return;
    const socket = this.#socket;
    if (socket.destroyed) {
      this.fail();
      return;
    }
    // Node's TLS socket reads what the plain socket still buffers as its first
    // input, so putting the held bytes back in front keeps every byte in order.
    if (this.#held.length > 0) socket.unshift(Buffer.concat(this.#held));
    this.#held.length = 0;
    // The plain socket's own errors now surface on the TLS socket.
    socket.on("error", noop);
    const options = this.#options;
    let secure: tls.TLSSocket;
    try {
      secure =
        options.side === "server"
          ? new tls.TLSSocket(socket, { ...tlsOptionsOf(options), isServer: true })
          : tls.connect({ ...tlsOptionsOf(options), socket });
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.#secure = secure;
    this.#host.swap(secure);
    secure.once(options.side === "server" ? "secure" : "secureConnect", () => this.#secured());
  }

  #secured(): void {
    if (this.#done) return;
    const secure = this.#secure as tls.TLSSocket;
    const options = this.#options;
    // A server-side TLSSocket made by hand does not check the client's
    // certificate (Node's tls.Server does it): do what it does.
    if (options.side === "server" && options.requestCert === true) {
      const verify = (secure as unknown as { _handle?: { verifyError?: () => Error | null } })
        ._handle?.verifyError;
      const verifyError =
        typeof verify === "function"
          ? verify.call((secure as unknown as { _handle: object })._handle)
          : new Error("client certificate cannot be verified on this runtime");
      if (verifyError !== null && options.rejectUnauthorized !== false) {
        this.fail(verifyError);
        return;
      }
      secure.authorized = verifyError === null;
    }
    this.#end(undefined);
  }
}

// Node's own options: everything but ours.
function tlsOptionsOf(options: StartTlsOptions): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...options };
  for (const name of OWN_OPTIONS) delete rest[name];
  return rest;
}

const OWN_OPTIONS = ["side", "handshakeTimeout", "signal", "bufferedPlaintext", "leftover"];
