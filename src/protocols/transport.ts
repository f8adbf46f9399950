import net from "node:net";
import type tls from "node:tls";
import {
  ConnectionClosedError,
  InvalidStateError,
  normalizeSocketError,
  TimeoutError,
  TlsHandshakeError,
} from "../errors.js";
import { type Clock, systemClock } from "./clock.js";
import {
  captureConnectionInfo,
  type ConnectionInfo,
  type ExtraInfoValue,
} from "./connection-info.js";
import type { Protocol } from "./protocol.js";
import { type CloseCause, closeCauseOf } from "./server-stats.js";
import {
  type StartTlsOptions,
  TlsUpgrade,
  type UpgradeHost,
  validateStartTlsOptions,
} from "./start-tls.js";
import {
  kExpire,
  kProgress,
  kSeen,
  kSeenAt,
  MAX_TIMEOUT_MS,
  type Sweeper,
  SweeperPool,
  type Watched,
} from "./sweeper.js";
import type { TransportStream } from "./transport-stream.js";
import { resolveWriteBufferLimits, type WriteBufferLimits } from "./write-buffer-limits.js";

// Kept importable from here, where they were first.
export { resolveWriteBufferLimits, type WriteBufferLimits } from "./write-buffer-limits.js";
export type { ExtraInfo, ExtraInfoValue } from "./connection-info.js";

/** Options of a Transport, given by the server or client that creates it. */
export interface TransportOptions {
  /** Write buffer marks; see {@link WriteBufferLimits}. */
  writeBufferLimits?: WriteBufferLimits;
  /**
   * Close the connection after this many milliseconds without progress: a
   * read, a write, or any byte of a pending write taken by the kernel (so by
   * the peer's window). It closes no earlier than `idleTimeout` and no later
   * than `idleTimeout + max(idleTimeout / 10, 50 ms)` after the last progress.
   * While the write buffer is above its high-water mark, reads and new writes
   * do not count: a peer that keeps sending but reads none of the replies is
   * idle, one that reads them slowly but steadily is not. The close is a
   * `TimeoutError`, `Connection closed: idle timeout`, with `with N bytes
   * unsent` added when replies were still waiting. Default: never.
   */
  idleTimeout?: number;
  /**
   * Bound every `close()` to this many milliseconds (see {@link CloseOptions}):
   * a close whose data the peer does not take within it aborts the connection.
   * At most 2³¹ − 1 ms. Default: unbounded (a close waits for the flush as
   * long as the peer keeps the connection open, or until `idleTimeout`).
   */
  closeTimeout?: number;
  /** The clock of the idle timeout and the close linger. For tests: a virtual clock drives every timeout. Default {@link systemClock}. */
  clock?: Clock;
  /**
   * Called with an error thrown by one of the protocol's callbacks, or with
   * the {@link TlsHandshakeError} of a failed `startTls`, before the
   * connection is aborted.
   */
  onProtocolError?: (error: Error, transport: Transport) => void;
  /**
   * Called once, after `connectionLost`, with why the connection closed (see
   * {@link CloseCause}) and the error it closed with, if any.
   */
  onLost?: (transport: Transport, cause: CloseCause, error: Error | undefined) => void;
  /** Called once, when the transport has taken the socket, just before `connectionMade`. */
  onOpen?: (transport: Transport) => void;
  /**
   * @internal Byte counters to add every chunk read and every write to (a
   * server's stats, one object shared by its transports).
   */
  counters?: ByteCounters;
}

/** @internal What a transport adds its bytes to. */
export interface ByteCounters {
  bytesReceived: number;
  bytesSent: number;
}

/**
 * @internal Tells a transport of an error reported for it (by a handler
 * layered on it), so that its close is counted under that error's cause.
 */
export const kNoteError: unique symbol = Symbol("asyncnet.noteError");

// The counters of a transport nobody counts for: adding to them is cheaper than a branch.
const UNCOUNTED: ByteCounters = { bytesReceived: 0, bytesSent: 0 };
// How strongly a cause holds: a stronger one replaces a weaker one, an equal one stays.
const CAUSE_RANK: Readonly<Record<CloseCause, number>> = {
  closed: 0,
  eof: 1,
  shutdown: 1,
  aborted: 2,
  idle: 3,
  lineTimeout: 3,
  reset: 3,
  error: 3,
};

/** Options of {@link Transport.close}. */
export interface CloseOptions {
  /**
   * The most milliseconds the close may take, timed by the transport's
   * `clock` from the call: when it ends with data still unsent the connection
   * is aborted, and `connectionLost` gets a `TimeoutError` (`closedConnection`,
   * `Cannot close: N bytes unsent after T ms`); when it ends during the linger
   * the socket is destroyed without one. The timer is one of the clock's, so
   * it fires no earlier than `timeout` ms after the call. An integer in
   * 0..2³¹ − 1. Default: the transport's `closeTimeout` option, else unbounded.
   */
  timeout?: number;
}

const EMPTY = Buffer.alloc(0);
const kTransport: unique symbol = Symbol("asyncnet.transport");
/** @internal `startTls` with the protocol's unconsumed bytes, taken only once the upgrade can start. */
export const kStartTls: unique symbol = Symbol("asyncnet.startTls");
// Errors already given to onProtocolError, so that a handler rethrowing one is not reported twice.
const reported = new WeakSet<Error>();
/** @internal Whether `error` was already reported through `onProtocolError` (a failed `startTls`). */
export function wasReported(error: unknown): boolean {
  return error instanceof Error && reported.has(error);
}
type TransportSocket = TransportStream & { [kTransport]: Transport };
/** How long `close()` waits for the peer's EOF after sending its own, in ms. */
export const LINGER_MS = 2000;

/**
 * A connection's byte pipe, asyncio's `Transport` over a `node:net` or
 * `node:tls` socket, or any stream that behaves like one (see
 * {@link TransportStream}). It owns the stream and drives one {@link Protocol}.
 *
 * Writes never block and never fail synchronously because of the peer: they
 * are buffered, and the protocol is told through `pauseWriting` /
 * `resumeWriting` when the buffer crosses its marks. Writes after `close()`
 * or after the connection was lost are dropped, as asyncio does (a handler
 * still replying while the server shuts down is not a bug); writes after
 * `writeEof()` throw, because they are.
 */
export class Transport implements Watched {
  #socket: TransportStream;
  readonly #protocol: Protocol;
  #info: ConnectionInfo;
  #secure: boolean;
  // A STARTTLS upgrade in progress, and the writes made before its TLS socket exists.
  #upgrade: TlsUpgrade | undefined;
  #heldWrites: (Uint8Array | string)[] | undefined;
  // The options as given: a server passes one object for all its connections.
  readonly #options: TransportOptions;
  #high: number;
  #low: number;
  #closing = false;
  #eofWritten = false;
  #lost = false;
  #reading = true;
  #writingPaused = false;
  #error: Error | undefined;
  #afterWrite: (() => void) | undefined;
  // Why it is closing, so far; "closed" when nothing else happened.
  #cause: CloseCause = "closed";
  readonly #counters: ByteCounters;
  // The idle timeout: reads and writes bump the counter, the sweeper compares it
  // (plus the bytes the kernel took) from one tick to the next.
  #idleSweeper: Sweeper<Transport> | undefined;
  #activity = 0;
  /** @internal The idle sweeper's bookkeeping. */
  [kSeen] = 0;
  /** @internal The idle sweeper's bookkeeping. */
  [kSeenAt] = 0;

  // One timer per idleTimeout for every transport, not a Node timer per socket
  // refreshed on every read and write (which showed in the echo profiles).
  static readonly #idleSweepers = new SweeperPool<Transport>();

  /**
   * Takes over `socket`, which must be connected, and calls
   * `protocol.connectionMade`.
   *
   * `info` is the connection's facts for {@link Transport.info} and
   * `getExtraInfo`; by default they are read from `socket` now (its addresses
   * and TLS state). A server passes its own (with the Unix path it listens on,
   * or facts a front-door layer learnt), and so may a caller whose stream is
   * not a socket.
   */
  constructor(
    socket: TransportStream,
    protocol: Protocol,
    options: TransportOptions = {},
    info: ConnectionInfo = captureConnectionInfo(socket),
  ) {
    this.#socket = socket;
    this.#protocol = protocol;
    this.#info = info;
    this.#secure = socket.encrypted === true;
    this.#options = options;
    this.#counters = options.counters ?? UNCOUNTED;
    ({ high: this.#high, low: this.#low } = resolveWriteBufferLimits(options.writeBufferLimits));

    // Shared listeners that find this transport on the socket: per-connection
    // closures were a fifth of an idle connection's heap.
    (socket as TransportSocket)[kTransport] = this;
    socket.on("data", Transport.#onData);
    socket.on("end", Transport.#onEnd);
    socket.on("error", Transport.#onError);
    socket.on("close", Transport.#onClose);
    if (options.idleTimeout !== undefined && options.idleTimeout > 0 && !socket.destroyed) {
      this.#idleSweeper = Transport.#idleSweepers.get(
        Math.ceil(options.idleTimeout),
        options.clock ?? systemClock,
      );
      this.#idleSweeper.add(this);
    }
    options.onOpen?.(this);
    try {
      protocol.connectionMade(this);
    } catch (error) {
      this.#protocolFailed(error);
    }
  }

  /** The clock of this connection's timers (the `clock` option, or {@link systemClock}). */
  get clock(): Clock {
    return this.#options.clock ?? systemClock;
  }

  /**
   * Buffers `data` for sending. Empty data is ignored; data after `close()`
   * or after the connection was lost is dropped.
   * @throws {ConnectionClosedError} after `writeEof()`.
   */
  write(data: Uint8Array | string): void {
    if (this.#closing || this.#eofWritten) {
      if (this.#closing || this.#lost || this.#socket.destroyed) return;
      throw new ConnectionClosedError("Cannot write: the transport is half-closed");
    }
    if (data.length === 0 || this.#socket.destroyed) return;
    if (this.#upgrade !== undefined && !this.#upgrade.wrapped) {
      // Plaintext now would reach the peer after its ClientHello: it goes out over TLS.
      (this.#heldWrites ??= []).push(data);
      return;
    }
    this.#counters.bytesSent += typeof data === "string" ? Buffer.byteLength(data) : data.length;
    // Adding to a buffer the peer is not emptying is no sign of life (see idleTimeout).
    if (!this.#writingPaused) this.#activity++;
    const socket = this.#socket;
    // Completion matters only to resume writing, so only a write that may leave more
    // than `low` bytes buffered (or one made while paused) asks to be told.
    if (this.#writingPaused || socket.writableLength + data.length > this.#low) {
      socket.write(data, (this.#afterWrite ??= () => this.#checkResume()));
    } else {
      socket.write(data);
    }
    if (!this.#writingPaused && this.#socket.writableLength > this.#high) {
      this.#writingPaused = true;
      this.#call("pauseWriting");
    }
  }

  /** Writes each chunk in order, as one batch when the socket allows it. */
  writeLines(chunks: Iterable<Uint8Array | string>): void {
    this.#socket.cork();
    try {
      for (const chunk of chunks) this.write(chunk);
    } finally {
      this.#socket.uncork();
    }
  }

  /**
   * Sends EOF (a TCP half-close) after the buffered data. Reading goes on.
   * Does nothing if EOF was already written or the transport is closing.
   * @throws {InvalidStateError} on a TLS transport, which cannot half-close (see `canWriteEof`).
   */
  writeEof(): void {
    if (!this.canWriteEof()) {
      throw new InvalidStateError("Cannot write EOF: TLS transports cannot half-close");
    }
    if (this.#eofWritten || this.#closing) return;
    this.#eofWritten = true;
    this.#socket.end();
  }

  /** Whether `writeEof` is supported: true for TCP and Unix sockets, false for TLS (as in asyncio). */
  canWriteEof(): boolean {
    return !this.#secure && this.#upgrade === undefined;
  }

  /**
   * Closes the connection after flushing the buffered data. The protocol gets no
   * more data; `connectionLost()` follows once the socket is closed. Idempotent:
   * a second call, with or without a timeout, changes nothing.
   *
   * How a close ends: first the buffered data is flushed, which takes as long
   * as the peer takes to read it; then the close lingers, after sending EOF,
   * up to {@link LINGER_MS} for the peer's EOF (discarding what the peer still
   * sends), and closes the socket. Without a bound, a peer that never reads
   * (and never resets) keeps the flush waiting for ever, unless the transport
   * has an `idleTimeout`. With `options.timeout` (or the `closeTimeout`
   * option) the close is aborted when that time ends: see {@link CloseOptions}.
   * @throws {RangeError} when `options.timeout` is not an integer in 0..2³¹ − 1.
   */
  close(options?: CloseOptions): void {
    const timeout = options?.timeout ?? this.#options.closeTimeout;
    if (options?.timeout !== undefined)
      validateCloseTimeout(options.timeout, "close option: timeout");
    if (this.#closing) return;
    if (this.#upgrade !== undefined) {
      this.#upgrade.fail(new ConnectionClosedError("Cannot start TLS: the transport was closed"));
      return;
    }
    this.#closing = true;
    const socket = this.#socket;
    if (socket.destroyed) return;
    if (timeout !== undefined) this.#boundClose(timeout);
    // Closing with unread bytes in the kernel turns our FIN into a RST, and a RST can
    // make the peer's kernel discard the reply still in flight. So keep reading (and
    // dropping) until the peer's EOF, when Node destroys the socket by itself.
    socket.resume();
    const linger = () => {
      if (socket.destroyed) return;
      if (socket.readableEnded) {
        socket.destroy();
        return;
      }
      const clock = this.#options.clock ?? systemClock;
      const timer = clock.schedule(LINGER_MS, () => socket.destroy());
      socket.once("close", () => clock.cancel(timer));
    };
    if (socket.writableFinished) linger();
    else socket.end(linger);
  }

  #boundClose(timeout: number): void {
    const socket = this.#socket;
    const clock = this.#options.clock ?? systemClock;
    const timer = clock.schedule(timeout, () => {
      if (socket.destroyed) return;
      if (socket.writableFinished) {
        socket.destroy();
        return;
      }
      const unsent = socket.writableLength;
      this.abort(
        new TimeoutError(`Cannot close: ${unsent} bytes unsent after ${timeout} ms`, {
          closedConnection: true,
          peer: this.#info.peername,
        }),
      );
    });
    socket.once("close", () => clock.cancel(timer));
  }

  /**
   * The server's graceful stop: calls the protocol's `shutdownRequested()`, so
   * that it finishes its work and closes, or, for a protocol without it,
   * closes at once after flushing. Does nothing once closing; a throwing
   * callback aborts the connection, as any callback's throw does.
   */
  requestShutdown(): void {
    if (this.isClosing()) return;
    this.#setCause("shutdown");
    if (this.#protocol.shutdownRequested === undefined) this.close();
    else this.#call("shutdownRequested");
  }

  /** Closes the connection at once, dropping buffered data. `connectionLost(error)` follows. */
  abort(error?: Error): void {
    if (this.#upgrade !== undefined) {
      // Ends the upgrade first, so that its promise and connectionLost get this error.
      this.#upgrade.fail(
        error ?? new ConnectionClosedError("Cannot start TLS: the transport was aborted"),
      );
      return;
    }
    if (!this.#lost) this.#setCause(error === undefined ? "aborted" : closeCauseOf(error));
    this.#closing = true;
    if (error !== undefined && this.#error === undefined) this.#error = error;
    this.#socket.destroy();
  }

  /** True once `close()` or `abort()` was called or the connection was lost. */
  isClosing(): boolean {
    // A destroyed socket (reset by the peer) is lost, even before its "close" event.
    return this.#closing || this.#lost || this.#socket.destroyed;
  }

  /** Stops calling `dataReceived` until `resumeReading()`; the kernel then applies TCP flow control. */
  pauseReading(): void {
    if (!this.#reading || this.#closing) return;
    this.#reading = false;
    // An upgrade keeps the socket paused; the TLS socket takes this state over.
    if (this.#upgrade === undefined) this.#socket.pause();
  }

  /** Undoes `pauseReading()`. */
  resumeReading(): void {
    if (this.#reading || this.#closing) return;
    this.#reading = true;
    if (this.#upgrade === undefined) this.#socket.resume();
  }

  /** Whether the transport is delivering data to the protocol. */
  isReading(): boolean {
    return this.#reading && !this.#closing;
  }

  /**
   * Upgrades the connection to TLS in place (STARTTLS), asyncio's
   * `loop.start_tls`: the same transport and protocol go on over the TLS
   * socket, and once this resolves {@link Transport.info} has `tls` and
   * `getExtraInfo` answers `peercert`, `cipher` and `protocol`.
   *
   * Call it right after writing the reply that announces the upgrade (the
   * server's `220`), or after reading it (the client). From the call on the
   * protocol gets no plaintext: reading stops at once, and bytes that arrived
   * after the command follow `options.bufferedPlaintext` (see
   * `BufferedPlaintextPolicy`): by default they are fed to the
   * handshake, never delivered. The reply still buffered is flushed as
   * plaintext first; writes made during the upgrade go out over TLS.
   * `pauseReading` / `resumeReading` during it take effect on the TLS socket.
   *
   * A failed, timed-out or peer-closed handshake rejects with a
   * {@link TlsHandshakeError} (Node's error its `cause`), reported first
   * through `onProtocolError` (a server's `onError`), and closes only this
   * connection; `connectionLost` gets the same error. `options.signal`
   * cancels a pending upgrade: it rejects with the signal's reason and closes.
   * `close()` during the upgrade rejects it with a `ConnectionClosedError`.
   * @throws {TypeError | RangeError} (as a rejection) for bad options, before anything changes.
   * @throws {InvalidStateError} (as a rejection) when the connection is
   *   already TLS, another upgrade is pending, it is closing or half-closed,
   *   or its stream is not a `net.Socket`.
   */
  startTls(options: StartTlsOptions): Promise<void> {
    return this[kStartTls](options, () =>
      options?.leftover === undefined ? EMPTY : Buffer.from(options.leftover),
    );
  }

  /** @internal {@link Transport.startTls}, with the bytes already received taken through `takeLeftover`. */
  [kStartTls](options: StartTlsOptions, takeLeftover: () => Buffer): Promise<void> {
    try {
      validateStartTlsOptions(options);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const socket = this.#socket;
    const refusal = this.#secure
      ? "the connection is already TLS"
      : this.#upgrade !== undefined
        ? "an upgrade is already in progress"
        : this.isClosing()
          ? "the transport is closing"
          : this.#eofWritten
            ? "EOF was already written"
            : socket instanceof net.Socket
              ? undefined
              : "the stream is not a socket";
    if (refusal !== undefined) {
      return Promise.reject(new InvalidStateError(`Cannot start TLS: ${refusal}`));
    }
    socket.pause();
    const upgrade = new TlsUpgrade(
      socket as net.Socket,
      options,
      takeLeftover(),
      this.#upgradeHost(),
    );
    this.#upgrade = upgrade;
    upgrade.start();
    return upgrade.promise;
  }

  #upgradeHost(): UpgradeHost {
    return {
      clock: this.clock,
      swap: (secure) => this.#swap(secure),
      finish: (error, secure) => this.#upgraded(error, secure),
    };
  }

  /** Moves the transport from the plain socket onto the TLS socket that wraps it. */
  #swap(secure: tls.TLSSocket): void {
    const old = this.#socket;
    (old as net.Socket)
      .off("data", Transport.#onData)
      .off("end", Transport.#onEnd)
      .off("error", Transport.#onError)
      .off("close", Transport.#onClose);
    (secure as unknown as TransportSocket)[kTransport] = this;
    secure.on("data", Transport.#onData);
    secure.on("end", Transport.#onEnd);
    secure.on("error", Transport.#onError);
    secure.on("close", Transport.#onClose);
    this.#socket = secure;
    if (!this.#reading) secure.pause();
    const held = this.#heldWrites;
    this.#heldWrites = undefined;
    if (held !== undefined) for (const chunk of held) this.write(chunk);
  }

  #upgraded(error: Error | undefined, secure: tls.TLSSocket | undefined): void {
    this.#upgrade = undefined;
    this.#heldWrites = undefined;
    if (error === undefined && secure !== undefined) {
      this.#secure = true;
      const { tls: tlsInfo } = captureConnectionInfo(secure);
      // Named one by one: a socket's snapshot keeps its addresses behind getters.
      const { peername, sockname } = this.#info;
      this.#info = Object.freeze({ peername, sockname, tls: tlsInfo });
      return;
    }
    const failure = error ?? new TlsHandshakeError("Cannot complete TLS handshake");
    this.#error = failure;
    if (failure instanceof TlsHandshakeError) {
      reported.add(failure);
      try {
        this.#options.onProtocolError?.(failure, this);
      } catch {
        // A throwing reporter must not keep this connection open.
      }
    }
    this.abort(failure);
  }

  /** Sets the write buffer marks and re-checks them at once. */
  setWriteBufferLimits(limits: WriteBufferLimits = {}): void {
    ({ high: this.#high, low: this.#low } = resolveWriteBufferLimits(limits));
    if (!this.#writingPaused && this.getWriteBufferSize() > this.#high) {
      this.#writingPaused = true;
      // The buffered writes may not report completion (see write): queue an empty
      // one that does, so the resume check runs once they are out.
      this.#socket.write(EMPTY, (this.#afterWrite ??= () => this.#checkResume()));
      this.#call("pauseWriting");
    } else {
      this.#checkResume();
    }
  }

  /** The current write buffer marks. */
  getWriteBufferLimits(): {
    /** Above this many buffered bytes the protocol's `pauseWriting()` is called. */
    high: number;
    /** At or below this many, after a pause, `resumeWriting()` is called. */
    low: number;
  } {
    return { high: this.#high, low: this.#low };
  }

  /** Bytes written but not yet handed to the kernel. */
  getWriteBufferSize(): number {
    return this.#socket.writableLength;
  }

  /**
   * The connection's facts, taken once when it started (see
   * {@link ConnectionInfo}); still there after the socket is gone.
   */
  get info(): ConnectionInfo {
    return this.#info;
  }

  /**
   * Information about the connection, by asyncio's names, read from
   * {@link Transport.info} (so it answers after the socket is gone too):
   * `peername` and `sockname` (a `SocketAddress`, or the path for a Unix
   * socket), `socket` (the stream), `peercert`, `cipher` and `protocol` (TLS only, after a STARTTLS too),
   * `proxy` (a connection that came with a PROXY header: see `ProxyInfo`).
   * Returns `fallback` (default `undefined`) for an unknown name or one that
   * does not apply.
   */
  getExtraInfo<K extends string, F = undefined>(name: K, fallback?: F): ExtraInfoValue<K, F> {
    return this.#extraInfo(name, fallback) as ExtraInfoValue<K, F>;
  }

  #extraInfo(name: string, fallback: unknown): unknown {
    const info = this.#info;
    switch (name) {
      case "peername":
        return info.peername ?? fallback;
      case "sockname":
        return info.sockname ?? fallback;
      case "socket":
        return this.#socket;
      case "peercert":
        return info.tls?.peerCertificate ?? fallback;
      case "cipher":
        return info.tls?.cipher ?? fallback;
      case "protocol":
        return info.tls?.protocol ?? fallback;
      case "proxy":
        return info.proxy ?? fallback;
      default:
        return fallback;
    }
  }

  static #onData(this: TransportSocket, data: Buffer): void {
    const transport = this[kTransport];
    transport.#counters.bytesReceived += data.length;
    if (transport.#closing) return;
    const upgrade = transport.#upgrade;
    if (upgrade !== undefined && !upgrade.wrapped) {
      upgrade.hold(data);
      return;
    }
    if (!transport.#writingPaused) transport.#activity++;
    try {
      transport.#protocol.dataReceived(data);
    } catch (error) {
      transport.#protocolFailed(error);
    }
  }

  static #onEnd(this: TransportSocket): void {
    const transport = this[kTransport];
    if (transport.#closing) return;
    if (transport.#upgrade !== undefined) {
      transport.#upgrade.fail();
      return;
    }
    transport.#setCause("eof");
    let keepOpen: unknown;
    try {
      keepOpen = transport.#protocol.eofReceived?.();
    } catch (error) {
      transport.#protocolFailed(error);
      return;
    }
    if (keepOpen !== true) transport.close();
  }

  static #onError(this: TransportSocket, error: Error): void {
    const transport = this[kTransport];
    transport.#upgrade?.fail(error);
    const normalized = normalizeSocketError(error, transport.#info.peername);
    transport.#error ??= normalized;
    if (!transport.#lost) transport.#setCause(closeCauseOf(normalized));
  }

  /** @internal See {@link kNoteError}: a timeout, a reset or a failure reported for this connection. */
  [kNoteError](error: Error): void {
    if (this.#lost) return;
    const cause = closeCauseOf(error);
    if (cause !== "aborted") this.#setCause(cause);
  }

  #setCause(cause: CloseCause): void {
    if (CAUSE_RANK[cause] > CAUSE_RANK[this.#cause]) this.#cause = cause;
  }

  /**
   * @internal The idle sweeper's progress marker: reads and writes counted,
   * plus the bytes the kernel took from pending writes.
   */
  [kProgress](): number {
    const socket = this.#socket;
    // Nothing pending, nothing to take: skip the handle's accessors.
    return socket.writableLength === 0 ? this.#activity : this.#activity + acceptedBytes(socket);
  }

  /** @internal The idle timeout. */
  [kExpire](): void {
    const unsent = this.#socket.writableLength;
    const detail = unsent > 0 ? ` with ${unsent} bytes unsent` : "";
    this.#setCause("idle");
    // A closing transport too: a peer that reads nothing must not hold it open.
    this.abort(
      new TimeoutError(`Connection closed: idle timeout${detail}`, {
        closedConnection: true,
        peer: this.#info.peername,
      }),
    );
  }

  static #onClose(this: TransportSocket): void {
    const transport = this[kTransport];
    if (transport.#lost) return;
    transport.#upgrade?.fail();
    transport.#lost = true;
    transport.#closing = true;
    transport.#writingPaused = false;
    transport.#idleSweeper?.delete(transport);
    try {
      transport.#protocol.connectionLost(transport.#error);
    } catch (error) {
      transport.#options.onProtocolError?.(toError(error), transport);
    }
    transport.#options.onLost?.(transport, transport.#cause, transport.#error);
  }

  #checkResume(): void {
    // A destroyed socket empties its buffer by dropping it: that is no reason to resume.
    if (this.#socket.destroyed) return;
    // A write went out: the peer is reading.
    this.#activity++;
    if (this.#writingPaused && !this.#lost && this.#socket.writableLength <= this.#low) {
      this.#writingPaused = false;
      this.#call("resumeWriting");
    }
  }

  #call(method: "pauseWriting" | "resumeWriting" | "shutdownRequested"): void {
    try {
      this.#protocol[method]?.();
    } catch (error) {
      this.#protocolFailed(error);
    }
  }

  #protocolFailed(error: unknown): void {
    const err = toError(error);
    this.#setCause("error");
    this.#options.onProtocolError?.(err, this);
    this.abort(err);
  }
}

/**
 * Checks a close bound (`closeTimeout` option, `close({ timeout })`): an
 * integer in 0..2³¹ − 1 ms. `where` names it: `"server option: closeTimeout"`.
 * @throws {RangeError} naming `where` otherwise.
 */
export function validateCloseTimeout(value: unknown, where: string): void {
  if (
    typeof value !== "number" ||
    !Number.isSafeInteger(value) ||
    value < 0 ||
    value > MAX_TIMEOUT_MS
  ) {
    throw new RangeError(
      `Invalid ${where} must be an integer in 0..${MAX_TIMEOUT_MS} ms, got ${String(value)}`,
    );
  }
}

/** The parts of Node's stream handles that tell how much of a write the kernel took. */
interface StreamHandle {
  bytesWritten?: unknown;
  writeQueueSize?: unknown;
  _parent?: StreamHandle;
}

/**
 * Bytes the kernel took from the socket's writes so far, or 0 where Node does
 * not tell. Node's public counters (`bytesWritten`, `writableLength`) do not
 * move during one large partial write (checked on Node 20: they change only
 * when the whole write is done), but libuv's handle does: `writeQueueSize`
 * shrinks as the kernel takes bytes, and `bytesWritten` counts bytes handed
 * to it. Over TLS the TCP handle is the TLS handle's `_parent`. Internal
 * fields, so guarded: without them only finished writes count.
 */
function acceptedBytes(socket: TransportStream): number {
  let handle = (socket as unknown as { _handle?: StreamHandle | null })._handle;
  if (handle === null || handle === undefined) return 0;
  if (handle._parent !== undefined && handle._parent !== null) handle = handle._parent;
  const { bytesWritten, writeQueueSize } = handle;
  if (typeof bytesWritten !== "number" || typeof writeQueueSize !== "number") return 0;
  return bytesWritten - writeQueueSize;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
