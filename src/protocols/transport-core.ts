/**
 * The stream side of a `Transport`: the listeners it puts on its stream, what
 * each event does to the connection's state and protocol, why it closes, and
 * its idle timeout. `Transport` adds the protocol's side (writes, close,
 * reading, STARTTLS, the connection's facts) on top.
 *
 * @module
 */

import type tls from "node:tls";
import { normalizeSocketError, TlsHandshakeError } from "../errors.js";
import { type Clock, systemClock } from "./clock.js";
import { type ConnectionInfo, withTlsOf } from "./connection-info.js";
import { idleProgress, idleTimeoutError } from "./idle-timeout.js";
import type { Protocol } from "./protocol.js";
import { CLOSE_CAUSES, type CloseCause, closeCauseOf, strongerCause } from "./server-stats.js";
import { markReported } from "./start-tls.js";
import {
  kExpire,
  kProgress,
  kSeen,
  kSeenAt,
  type Sweeper,
  SweeperPool,
  type Watched,
} from "./sweeper.js";
import type { TlsUpgrade } from "./tls-upgrade.js";
import type { ByteCounters, TransportOptions } from "./transport-options.js";
import type { TransportStream } from "./transport-stream.js";
import type { Transport } from "./transport.js";
import { marksOf, type WriteMarks } from "./write-buffer-limits.js";

/**
 * @internal Tells a transport of an error reported for it (by a handler
 * layered on it), so that its close is counted under that error's cause.
 */
export const kNoteError: unique symbol = Symbol("asyncnet.noteError");

/**
 * @internal Adds the bytes of a live transport, not yet in its `counters`,
 * to `into` (a server's `stats()` does, for each open connection).
 */
export const kCountBytes: unique symbol = Symbol("asyncnet.countBytes");

/** A stream that counts its own bytes, as Node's sockets do (TLS: the plaintext). */
interface CountingStream {
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

// The bits of a transport's state.
const SECURE = 1;
const CLOSING = 2;
const EOF_WRITTEN = 4;
const LOST = 8;
const READING = 16;
const WRITING_PAUSED = 32;
const COUNTS_CHUNKS = 64;
// The close cause, as its index in CLOSE_CAUSES; "closed" until something else happens.
const CAUSE_SHIFT = 8;
const CAUSE_MASK = 0xf << CAUSE_SHIFT;
const CLOSED = CLOSE_CAUSES.indexOf("closed") << CAUSE_SHIFT;

function countsItself(stream: TransportStream): boolean {
  const counting = stream as unknown as Partial<CountingStream>;
  return typeof counting.bytesRead === "number" && typeof counting.bytesWritten === "number";
}
// Each stream's transport, for the shared listeners. Not a property on the socket: one
// more hidden class of Node's sockets was a fifth one for Node's own `_handle` getter
// (raw node:net sockets pass through four), which turned it megamorphic for every
// read and write of the process (`node --log-ic`).
const transports = new WeakMap<TransportStream, TransportCore>();

/**
 * @internal The state of a transport and the stream's side of it. Its
 * members are the {@link Transport}'s own: nothing else uses them.
 */
export abstract class TransportCore implements Watched {
  /** @internal */
  protected socket_: TransportStream;
  /** @internal */
  protected readonly protocol_: Protocol;
  /** @internal */
  protected info_: ConnectionInfo;
  /** @internal A STARTTLS upgrade in progress (it holds the writes made before its TLS socket exists). */
  protected upgrade_: TlsUpgrade | undefined;
  /** @internal The options as given: a server passes one object for all its connections. */
  protected readonly options_: TransportOptions;
  /** @internal The write buffer marks: shared by the transports made with the same `writeBufferLimits`. */
  protected limits_: WriteMarks;
  // The booleans of the state and the close cause, in one small integer: six
  // fields of their own were 48 bytes of every idle connection.
  #flags: number;
  /** @internal */
  protected error_: Error | undefined;
  /** @internal */
  protected afterWrite_: (() => void) | undefined;
  // The idle timeout: reads and writes bump the counter, the sweeper compares it
  // (plus the bytes the kernel took) from one tick to the next.
  #idleSweeper: Sweeper<TransportCore> | undefined;
  /** @internal */
  protected activity_ = 0;
  /** @internal The idle sweeper's bookkeeping. */
  [kSeen] = 0;
  /** @internal The idle sweeper's bookkeeping. */
  [kSeenAt] = 0;

  // One timer per idleTimeout for every transport, not a Node timer per socket
  // refreshed on every read and write (which showed in the echo profiles).
  static readonly #idleSweepers = new SweeperPool<TransportCore>();

  /** @internal Takes over `socket`; the subclass then calls `connectionMade`. */
  protected constructor(
    socket: TransportStream,
    protocol: Protocol,
    options: TransportOptions,
    info: ConnectionInfo,
  ) {
    this.socket_ = socket;
    this.protocol_ = protocol;
    this.info_ = info;
    this.options_ = options;
    this.limits_ = marksOf(options.writeBufferLimits);
    this.#flags =
      READING |
      CLOSED |
      (socket.encrypted === true ? SECURE : 0) |
      (countsItself(socket) ? 0 : COUNTS_CHUNKS);
    this.#listen(socket);
    if (options.idleTimeout !== undefined && options.idleTimeout > 0 && !socket.destroyed) {
      this.#idleSweeper = TransportCore.#idleSweepers.get(
        Math.ceil(options.idleTimeout),
        options.clock ?? systemClock,
      );
      this.#idleSweeper.add(this);
    }
  }

  /** Closes after flushing (see {@link Transport.close}). */
  abstract close(): void;
  /** Closes at once (see {@link Transport.abort}). */
  abstract abort(error?: Error): void;
  /** Buffers `data` for sending (see {@link Transport.write}). */
  abstract write(data: Uint8Array | string): void;

  /** @internal A TLS connection (from the start, or since a STARTTLS). */
  protected get secure_(): boolean {
    return (this.#flags & SECURE) !== 0;
  }
  /** @internal */
  protected set secure_(on: boolean) {
    this.#flags = on ? this.#flags | SECURE : this.#flags & ~SECURE;
  }

  /** @internal `close()` or `abort()` was called, or the connection was lost. */
  protected get closing_(): boolean {
    return (this.#flags & CLOSING) !== 0;
  }
  /** @internal */
  protected set closing_(on: boolean) {
    this.#flags = on ? this.#flags | CLOSING : this.#flags & ~CLOSING;
  }

  /** @internal `writeEof()` was called. */
  protected get eofWritten_(): boolean {
    return (this.#flags & EOF_WRITTEN) !== 0;
  }
  /** @internal */
  protected set eofWritten_(on: boolean) {
    this.#flags = on ? this.#flags | EOF_WRITTEN : this.#flags & ~EOF_WRITTEN;
  }

  /** @internal The stream closed. */
  protected get lost_(): boolean {
    return (this.#flags & LOST) !== 0;
  }
  /** @internal */
  protected set lost_(on: boolean) {
    this.#flags = on ? this.#flags | LOST : this.#flags & ~LOST;
  }

  /** @internal Reading was not paused by the protocol. */
  protected get reading_(): boolean {
    return (this.#flags & READING) !== 0;
  }
  /** @internal */
  protected set reading_(on: boolean) {
    this.#flags = on ? this.#flags | READING : this.#flags & ~READING;
  }

  /** @internal The write buffer is above its high mark (the protocol was told to pause). */
  protected get writingPaused_(): boolean {
    return (this.#flags & WRITING_PAUSED) !== 0;
  }
  /** @internal */
  protected set writingPaused_(on: boolean) {
    this.#flags = on ? this.#flags | WRITING_PAUSED : this.#flags & ~WRITING_PAUSED;
  }

  /** @internal Why it is closing, so far; "closed" when nothing else happened. */
  protected get cause_(): CloseCause {
    return CLOSE_CAUSES[(this.#flags & CAUSE_MASK) >> CAUSE_SHIFT] as CloseCause;
  }
  /** @internal */
  protected set cause_(cause: CloseCause) {
    this.#flags = (this.#flags & ~CAUSE_MASK) | (CLOSE_CAUSES.indexOf(cause) << CAUSE_SHIFT);
  }

  /**
   * @internal Where each chunk read and each write is counted, for a stream
   * that does not count its bytes itself; `undefined` for a socket, whose
   * `bytesRead` / `bytesWritten` are added to the `counters` option when it
   * closes (so a write costs no `Buffer.byteLength`).
   */
  protected get counters_(): ByteCounters | undefined {
    return (this.#flags & COUNTS_CHUNKS) === 0 ? undefined : this.options_.counters;
  }

  /** The clock of this connection's timers (the `clock` option, or {@link systemClock}). */
  get clock(): Clock {
    return this.options_.clock ?? systemClock;
  }

  // Shared listeners that look this transport up (per-connection closures were a
  // fifth of an idle connection's heap, and a socket property cost every socket
  // operation a megamorphic load in Node's code: see `transports`).
  #listen(stream: TransportStream): void {
    transports.set(stream, this);
    stream.on("data", TransportCore.#onData);
    stream.on("end", TransportCore.#onEnd);
    stream.on("error", TransportCore.#onError);
    stream.on("close", TransportCore.#onClose);
  }

  /** @internal Moves the transport from the plain socket onto the TLS socket that wraps it. */
  protected swap_(secure: tls.TLSSocket): void {
    // The plain socket's bytes so far are the connection's plaintext; the TLS socket counts the rest.
    this.#banked();
    (this.socket_ as unknown as tls.TLSSocket)
      .off("data", TransportCore.#onData)
      .off("end", TransportCore.#onEnd)
      .off("error", TransportCore.#onError)
      .off("close", TransportCore.#onClose);
    this.#listen(secure);
    this.socket_ = secure;
    if (!this.reading_) secure.pause();
    const held = this.upgrade_?.takeWrites();
    if (held !== undefined) for (const chunk of held) this.write(chunk);
  }

  /** @internal The upgrade ended: secure now, or failed with `error` (reported, then aborted). */
  protected upgraded_(error: Error | undefined, secure: tls.TLSSocket | undefined): void {
    this.upgrade_ = undefined;
    if (error === undefined && secure !== undefined) {
      this.secure_ = true;
      this.info_ = withTlsOf(this.info_, secure);
      return;
    }
    const failure = error ?? new TlsHandshakeError("Cannot complete TLS handshake");
    this.error_ = failure;
    if (failure instanceof TlsHandshakeError) {
      markReported(failure);
      try {
        this.options_.onProtocolError?.(failure, this as unknown as Transport);
      } catch {
        // A throwing reporter must not keep this connection open.
      }
    }
    this.abort(failure);
  }

  static #onData(this: TransportStream, data: Buffer): void {
    const transport = transports.get(this) as TransportCore;
    const counters = transport.counters_;
    if (counters !== undefined) counters.bytesReceived += data.length;
    if (transport.closing_) return;
    const upgrade = transport.upgrade_;
    if (upgrade !== undefined && !upgrade.wrapped) {
      upgrade.hold(data);
      return;
    }
    if (!transport.writingPaused_) transport.activity_++;
    try {
      transport.protocol_.dataReceived(data);
    } catch (error) {
      transport.protocolFailed_(error);
    }
  }

  static #onEnd(this: TransportStream): void {
    const transport = transports.get(this) as TransportCore;
    if (transport.closing_) return;
    if (transport.upgrade_ !== undefined) {
      transport.upgrade_.fail();
      return;
    }
    transport.setCause_("eof");
    let keepOpen: unknown;
    try {
      keepOpen = transport.protocol_.eofReceived?.();
    } catch (error) {
      transport.protocolFailed_(error);
      return;
    }
    if (keepOpen !== true) transport.close();
  }

  static #onError(this: TransportStream, error: Error): void {
    const transport = transports.get(this) as TransportCore;
    transport.upgrade_?.fail(error);
    const normalized = normalizeSocketError(error, transport.info_.peername);
    transport.error_ ??= normalized;
    if (!transport.lost_) transport.setCause_(closeCauseOf(normalized));
  }

  static #onClose(this: TransportStream): void {
    const transport = transports.get(this) as TransportCore;
    if (transport.lost_) return;
    transport.upgrade_?.fail();
    transport.lost_ = true;
    transport.closing_ = true;
    transport.writingPaused_ = false;
    transport.#idleSweeper?.delete(transport);
    transport.#banked();
    const self = transport as unknown as Transport;
    try {
      transport.protocol_.connectionLost(transport.error_);
    } catch (error) {
      transport.options_.onProtocolError?.(toError(error), self);
    }
    transport.options_.onLost?.(self, transport.cause_, transport.error_);
  }

  /** Adds the bytes the stream counted to the `counters` option, once it is done with it. */
  #banked(): void {
    const total = this.options_.counters;
    if (total !== undefined) this[kCountBytes](total);
  }

  /** @internal See {@link kCountBytes}. */
  [kCountBytes](into: ByteCounters): void {
    if ((this.#flags & COUNTS_CHUNKS) !== 0) return;
    const stream = this.socket_ as unknown as CountingStream;
    into.bytesReceived += stream.bytesRead;
    into.bytesSent += stream.bytesWritten;
  }

  /** @internal See {@link kNoteError}: a timeout, a reset or a failure reported for this connection. */
  [kNoteError](error: Error): void {
    if (this.lost_) return;
    const cause = closeCauseOf(error);
    if (cause !== "aborted") this.setCause_(cause);
  }

  /** @internal */
  protected setCause_(cause: CloseCause): void {
    this.cause_ = strongerCause(this.cause_, cause);
  }

  /**
   * @internal The idle sweeper's progress marker: reads and writes counted,
   * plus the bytes the kernel took from pending writes.
   */
  [kProgress](): number {
    return idleProgress(this.socket_, this.activity_);
  }

  /** @internal The idle timeout. */
  [kExpire](): void {
    this.setCause_("idle");
    // A closing transport too: a peer that reads nothing must not hold it open.
    this.abort(idleTimeoutError(this.socket_, this.info_.peername));
  }

  /** @internal A write went out: resumes writing once the buffer is down to `low`. */
  protected checkResume_(): void {
    // A destroyed socket empties its buffer by dropping it: that is no reason to resume.
    if (this.socket_.destroyed) return;
    // A write went out: the peer is reading.
    this.activity_++;
    if (this.writingPaused_ && !this.lost_ && this.socket_.writableLength <= this.limits_.low) {
      this.writingPaused_ = false;
      this.call_("resumeWriting");
    }
  }

  /** @internal Calls one of the protocol's optional callbacks; a throw aborts. */
  protected call_(method: "pauseWriting" | "resumeWriting" | "shutdownRequested"): void {
    try {
      this.protocol_[method]?.();
    } catch (error) {
      this.protocolFailed_(error);
    }
  }

  /** @internal A protocol callback threw: reported, then the connection is aborted. */
  protected protocolFailed_(error: unknown): void {
    const err = toError(error);
    this.setCause_("error");
    this.options_.onProtocolError?.(err, this as unknown as Transport);
    this.abort(err);
  }
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
