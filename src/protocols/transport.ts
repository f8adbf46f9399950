import net from "node:net";
import { ConnectionClosedError, InvalidStateError, TimeoutError } from "../errors.js";
import { boundClose, lingerClose, validateCloseTimeout } from "./close-linger.js";
import {
  captureConnectionInfo,
  type ConnectionInfo,
  extraInfoOf,
  type ExtraInfoValue,
} from "./connection-info.js";
import type { Protocol } from "./protocol.js";
import { closeCauseOf } from "./server-stats.js";
import { type StartTlsOptions, startTlsRefusal, validateStartTlsOptions } from "./start-tls.js";
import { TlsUpgrade } from "./tls-upgrade.js";
import { TransportCore } from "./transport-core.js";
import type { Watched } from "./sweeper.js";
import type { CloseOptions, TransportOptions } from "./transport-options.js";
import type { TransportStream } from "./transport-stream.js";
import { resolveWriteBufferLimits, type WriteBufferLimits } from "./write-buffer-limits.js";

// Kept importable from here, where they were first.
export { resolveWriteBufferLimits, type WriteBufferLimits } from "./write-buffer-limits.js";
export type { ExtraInfo, ExtraInfoValue } from "./connection-info.js";
export { LINGER_MS, validateCloseTimeout } from "./close-linger.js";
export { wasReported } from "./start-tls.js";
export { kCountBytes, kNoteError } from "./transport-core.js";
export type { ByteCounters, CloseOptions, TransportOptions } from "./transport-options.js";

const EMPTY = Buffer.alloc(0);
/** @internal `startTls` with the protocol's unconsumed bytes, taken only once the upgrade can start. */
export const kStartTls: unique symbol = Symbol("asyncnet.startTls");

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
export class Transport extends TransportCore implements Watched {
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
    super(socket, protocol, options, info);
    options.onOpen?.(this);
    try {
      protocol.connectionMade(this);
    } catch (error) {
      this.protocolFailed_(error);
    }
  }

  /**
   * Buffers `data` for sending. Empty data is ignored; data after `close()`
   * or after the connection was lost is dropped.
   * @throws {ConnectionClosedError} after `writeEof()`.
   */
  write(data: Uint8Array | string): void {
    if (this.closing_ || this.eofWritten_) {
      if (this.closing_ || this.lost_ || this.socket_.destroyed) return;
      throw new ConnectionClosedError("Cannot write: the transport is half-closed");
    }
    if (data.length === 0 || this.socket_.destroyed) return;
    if (this.upgrade_ !== undefined && !this.upgrade_.wrapped) {
      // Plaintext now would reach the peer after its ClientHello: it goes out over TLS.
      this.upgrade_.holdWrite(data);
      return;
    }
    const counters = this.counters_;
    if (counters !== undefined) {
      counters.bytesSent += typeof data === "string" ? Buffer.byteLength(data) : data.length;
    }
    // Adding to a buffer the peer is not emptying is no sign of life (see idleTimeout).
    if (!this.writingPaused_) this.activity_++;
    const socket = this.socket_;
    // Completion matters only to resume writing, so only a write that may leave more
    // than `low` bytes buffered (or one made while paused) asks to be told.
    if (this.writingPaused_ || socket.writableLength + data.length > this.limits_.low) {
      socket.write(data, (this.afterWrite_ ??= () => this.checkResume_()));
    } else {
      socket.write(data);
    }
    if (!this.writingPaused_ && this.socket_.writableLength > this.limits_.high) {
      this.writingPaused_ = true;
      this.call_("pauseWriting");
    }
  }

  /** Writes each chunk in order, as one batch when the socket allows it. */
  writeLines(chunks: Iterable<Uint8Array | string>): void {
    this.socket_.cork();
    try {
      for (const chunk of chunks) this.write(chunk);
    } finally {
      this.socket_.uncork();
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
    if (this.eofWritten_ || this.closing_) return;
    this.eofWritten_ = true;
    this.socket_.end();
  }

  /** Whether `writeEof` is supported: true for TCP and Unix sockets, false for TLS (as in asyncio). */
  canWriteEof(): boolean {
    return !this.secure_ && this.upgrade_ === undefined;
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
    const timeout = options?.timeout ?? this.options_.closeTimeout;
    if (options?.timeout !== undefined)
      validateCloseTimeout(options.timeout, "close option: timeout");
    if (this.closing_) return;
    if (this.upgrade_ !== undefined) {
      this.upgrade_.fail(new ConnectionClosedError("Cannot start TLS: the transport was closed"));
      return;
    }
    this.closing_ = true;
    const socket = this.socket_;
    if (socket.destroyed) return;
    if (timeout !== undefined) {
      boundClose(socket, this.clock, timeout, (unsent) =>
        this.abort(
          new TimeoutError(`Cannot close: ${unsent} bytes unsent after ${timeout} ms`, {
            closedConnection: true,
            peer: this.info_.peername,
          }),
        ),
      );
    }
    lingerClose(socket, this.clock);
  }

  /**
   * The server's graceful stop: calls the protocol's `shutdownRequested()`, so
   * that it finishes its work and closes, or, for a protocol without it,
   * closes at once after flushing. Does nothing once closing; a throwing
   * callback aborts the connection, as any callback's throw does.
   */
  requestShutdown(): void {
    if (this.isClosing()) return;
    this.setCause_("shutdown");
    if (this.protocol_.shutdownRequested === undefined) this.close();
    else this.call_("shutdownRequested");
  }

  /** Closes the connection at once, dropping buffered data. `connectionLost(error)` follows. */
  abort(error?: Error): void {
    if (this.upgrade_ !== undefined) {
      // Ends the upgrade first, so that its promise and connectionLost get this error.
      this.upgrade_.fail(
        error ?? new ConnectionClosedError("Cannot start TLS: the transport was aborted"),
      );
      return;
    }
    if (!this.lost_) this.setCause_(error === undefined ? "aborted" : closeCauseOf(error));
    this.closing_ = true;
    if (error !== undefined && this.error_ === undefined) this.error_ = error;
    this.socket_.destroy();
  }

  /** True once `close()` or `abort()` was called or the connection was lost. */
  isClosing(): boolean {
    // A destroyed socket (reset by the peer) is lost, even before its "close" event.
    return this.closing_ || this.lost_ || this.socket_.destroyed;
  }

  /** Stops calling `dataReceived` until `resumeReading()`; the kernel then applies TCP flow control. */
  pauseReading(): void {
    if (!this.reading_ || this.closing_) return;
    this.reading_ = false;
    // An upgrade keeps the socket paused; the TLS socket takes this state over.
    if (this.upgrade_ === undefined) this.socket_.pause();
  }

  /** Undoes `pauseReading()`. */
  resumeReading(): void {
    if (this.reading_ || this.closing_) return;
    this.reading_ = true;
    if (this.upgrade_ === undefined) this.socket_.resume();
  }

  /** Whether the transport is delivering data to the protocol. */
  isReading(): boolean {
    return this.reading_ && !this.closing_;
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
    const socket = this.socket_;
    const refusal = startTlsRefusal({
      secure: this.secure_,
      upgrading: this.upgrade_ !== undefined,
      closing: this.isClosing(),
      eofWritten: this.eofWritten_,
      socket: socket instanceof net.Socket,
    });
    if (refusal !== undefined) {
      return Promise.reject(new InvalidStateError(`Cannot start TLS: ${refusal}`));
    }
    socket.pause();
    const upgrade = new TlsUpgrade(socket as net.Socket, options, takeLeftover(), {
      clock: this.clock,
      swap: (secure) => this.swap_(secure),
      finish: (error, secure) => this.upgraded_(error, secure),
    });
    this.upgrade_ = upgrade;
    upgrade.start();
    return upgrade.promise;
  }

  /** Sets the write buffer marks and re-checks them at once. */
  setWriteBufferLimits(limits: WriteBufferLimits = {}): void {
    this.limits_ = Object.freeze(resolveWriteBufferLimits(limits));
    if (!this.writingPaused_ && this.getWriteBufferSize() > this.limits_.high) {
      this.writingPaused_ = true;
      // The buffered writes may not report completion (see write): queue an empty
      // one that does, so the resume check runs once they are out.
      this.socket_.write(EMPTY, (this.afterWrite_ ??= () => this.checkResume_()));
      this.call_("pauseWriting");
    } else {
      this.checkResume_();
    }
  }

  /** The current write buffer marks. */
  getWriteBufferLimits(): {
    /** Above this many buffered bytes the protocol's `pauseWriting()` is called. */
    high: number;
    /** At or below this many, after a pause, `resumeWriting()` is called. */
    low: number;
  } {
    const { high, low } = this.limits_;
    return { high, low };
  }

  /** Bytes written but not yet handed to the kernel. */
  getWriteBufferSize(): number {
    return this.socket_.writableLength;
  }

  /**
   * The connection's facts, taken once when it started (see
   * {@link ConnectionInfo}); still there after the socket is gone.
   */
  get info(): ConnectionInfo {
    return this.info_;
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
    return extraInfoOf(this.info_, this.socket_, name, fallback) as ExtraInfoValue<K, F>;
  }
}
