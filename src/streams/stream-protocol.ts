import { abortReason, ConnectionClosedError, InvalidStateError, TimeoutError } from "../errors.js";
import { type Clock, type ClockTimer, systemClock } from "../protocols/clock.js";
import type { Protocol } from "../protocols/protocol.js";
import type { StartTlsOptions } from "../protocols/start-tls.js";
import { kStartTls, type Transport } from "../protocols/transport.js";
import { StreamReader, type StreamReaderOptions } from "./stream-reader.js";
import { type DrainOptions, StreamWriter } from "./stream-writer.js";

/**
 * How long a connection's input must stay quiet, once a graceful stop began,
 * before its reader sees EOF: 250 ms. Long enough that a client still sending
 * (a pipelining one, or one whose process is briefly descheduled) is not cut
 * off between two writes; short enough that a stop under load still takes a
 * fraction of a second.
 */
export const SHUTDOWN_SETTLE_MS = 250;

/**
 * What a connection waits on, and why it was lost: made by the first that is
 * needed, as most connections never pause, stop gracefully, or fail (four
 * fields fewer on every idle connection).
 */
interface Waits {
  drain: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;
  closed: { promise: Promise<void>; resolve: () => void } | undefined;
  settleTimer: ClockTimer | undefined;
  lostError: Error | undefined;
}

// The graceful-stop states of one connection.
const RUNNING = 0;
const SETTLING = 1;
const INPUT_ENDED = 2;

/**
 * The adapter between the protocol layer and the streams layer (asyncio's
 * `StreamReaderProtocol`): feeds a StreamReader, tracks write pauses for
 * `drain()`, and records the connection's end for `waitClosed()`.
 *
 * Graceful stop (`shutdownRequested`, from `server.shutdown()`): the handler
 * keeps being fed until the connection's input is quiet, that is the reader
 * holds no byte, reading is not paused (by the reader's flow control), writing
 * is not paused (a handler awaiting `drain()` is busy), and no data arrived
 * for {@link SHUTDOWN_SETTLE_MS}. Then the reader gets EOF, so the handler's
 * next read returns as at EOF and the handler ends by itself, after which
 * `startServer` closes the connection, flushing. Data that arrives after
 * that EOF is dropped. A partial line left in the reader is not quiet: such a
 * connection runs until the peer's EOF, a timeout, or the end of the grace.
 */
export class StreamProtocol implements Protocol {
  /** The reader the connection's bytes are fed to; made with the protocol. */
  readonly reader: StreamReader;
  #writer: StreamWriter | undefined;
  readonly #onConnected: ((reader: StreamReader, writer: StreamWriter) => void) | undefined;
  #writingPaused = false;
  #lost = false;
  #waits: Waits | undefined;
  // When data last arrived (or the input was last seen busy), for the graceful stop:
  // whole ms, rounded up (never early), so that the field holds a small integer and
  // not a heap number per connection (16 bytes idle).
  #lastInputAt = 0;
  #shutdown = RUNNING;
  // The transport's clock (a virtual one in tests), known from connectionMade.
  #clock: Clock = systemClock;

  /**
   * A protocol whose {@link reader} is made now, with `options` (its `limit`
   * and the rest of `StreamReaderOptions`), and whose {@link writer} is made
   * in `connectionMade`, when `onConnected(reader, writer)` is called too.
   *
   * It is the way to a reader/writer pair over a transport of one's own, or
   * under a protocol of one's own: a wrapper protocol that owns a
   * `StreamProtocol` forwards every callback to it (`connectionMade`,
   * `dataReceived`, `eofReceived`'s result, `connectionLost`, `pauseWriting`,
   * `resumeWriting`, `shutdownRequested`) and may look at the bytes or the
   * events on the way. Give `createServer` a factory of the wrapper, or pass
   * it to `new Transport(stream, wrapper)`. Nothing closes the connection
   * when the work on the pair ends: call `writer.close()` (as `startServer`
   * does when its handler settles).
   */
  constructor(
    options: StreamReaderOptions = {},
    onConnected?: (reader: StreamReader, writer: StreamWriter) => void,
  ) {
    this.reader = new StreamReader(options);
    this.#onConnected = onConnected;
  }

  /**
   * The writer, available once connected.
   * @throws {InvalidStateError} before `connectionMade`.
   */
  get writer(): StreamWriter {
    if (this.#writer === undefined) {
      throw new InvalidStateError("Cannot get writer: not connected yet");
    }
    return this.#writer;
  }

  connectionMade(transport: Transport): void {
    this.#clock = transport.clock;
    // A connection that has just opened is not idle: its first request may be in
    // flight (a client answering a welcome line while a roll or stop begins).
    this.#lastInputAt = Math.ceil(this.#clock.now());
    this.reader.setTransport(transport);
    this.#writer = new StreamWriter(transport, this);
    this.#onConnected?.(this.reader, this.#writer);
  }

  dataReceived(data: Buffer): void {
    // After the shutdown's EOF the peer's bytes have no reader.
    if (this.#shutdown === INPUT_ENDED) return;
    // One clock read per chunk (70-100 ns measured; caching it per event-loop turn
    // behind an immediate cost 170-700 ns a turn, more than it saved at a few chunks
    // a turn): a stop must tell a connection that just received from an idle one.
    this.#lastInputAt = Math.ceil(this.#clock.now());
    this.reader.feedData(data);
  }

  eofReceived(): boolean {
    this.reader.feedEof();
    // Stay half-open so the handler can still reply, except over TLS, which cannot half-close.
    return this.#writer?.canWriteEof() ?? false;
  }

  connectionLost(error?: Error): void {
    this.#lost = true;
    const waits = error === undefined ? this.#waits : this.#waitsNow();
    if (waits !== undefined) {
      if (waits.settleTimer !== undefined) this.#clock.cancel(waits.settleTimer);
      waits.settleTimer = undefined;
      waits.lostError = error;
    }
    if (error === undefined) this.reader.feedEof();
    else this.reader.setException(error);
    this.#writingPaused = false;
    if (waits === undefined) return;
    if (waits.drain !== undefined) {
      waits.drain.reject(this.#connectionLostError("Cannot drain"));
      waits.drain = undefined;
    }
    waits.closed?.resolve();
  }

  #waitsNow(): Waits {
    return (this.#waits ??= {
      drain: undefined,
      closed: undefined,
      settleTimer: undefined,
      lostError: undefined,
    });
  }

  pauseWriting(): void {
    this.#writingPaused = true;
  }

  resumeWriting(): void {
    this.#writingPaused = false;
    const waits = this.#waits;
    if (waits?.drain !== undefined) {
      waits.drain.resolve();
      waits.drain = undefined;
    }
  }

  /**
   * A graceful stop began: feed EOF to the reader once the input is quiet (see
   * the class comment). Idempotent; does nothing after the peer's EOF.
   */
  shutdownRequested(): void {
    if (this.#shutdown !== RUNNING || this.#lost || this.reader.atEof()) return;
    this.#shutdown = SETTLING;
    // A connection that received nothing for the settle period before the stop
    // is idle and ends at the first look; the others settle first.
    const quietFor = this.#clock.now() - this.#lastInputAt;
    if (quietFor < SHUTDOWN_SETTLE_MS) this.#settleLater(SHUTDOWN_SETTLE_MS - quietFor);
    else this.#lookAfterPoll();
  }

  #settleLater(delay: number): void {
    const waits = this.#waitsNow();
    waits.settleTimer = this.#clock.schedule(Math.ceil(delay), () => {
      waits.settleTimer = undefined;
      this.#lookAfterPoll();
    });
  }

  // What the kernel already holds for this connection must be read before its
  // silence counts, but a timer can fire before the event loop polls sockets (it
  // runs first in a turn, and late after a long burst), and an immediate set from
  // the poll phase (the stop began in a socket's or signal's callback) runs
  // before the next poll. An immediate set from an immediate always follows one.
  #lookAfterPoll(): void {
    setImmediate(() => setImmediate(() => this.#look()));
  }

  #look(): void {
    if (this.#lost || this.#shutdown !== SETTLING) return;
    if (this.reader.atEof()) {
      // The peer's EOF came first: the handler ends by itself.
      this.#shutdown = INPUT_ENDED;
      return;
    }
    const transport = this.#writer?.transport;
    if (transport === undefined || transport.isClosing()) return;
    const now = this.#clock.now();
    if (this.reader.bufferedSize > 0 || this.#writingPaused || !transport.isReading()) {
      // Busy: the settle period starts again once it is not.
      this.#lastInputAt = Math.ceil(now);
    } else if (now - this.#lastInputAt >= SHUTDOWN_SETTLE_MS) {
      this.#shutdown = INPUT_ENDED;
      this.reader.feedEof();
      return;
    }
    this.#settleLater(Math.max(1, SHUTDOWN_SETTLE_MS - (now - this.#lastInputAt)));
  }

  /**
   * Upgrades the connection to TLS (see `Transport.startTls`), handing the
   * transport what the reader still buffers (bytes after the command) as
   * handshake input, so that no read ever returns them.
   */
  startTls(options: Omit<StartTlsOptions, "leftover">): Promise<void> {
    const transport = this.#writer?.transport;
    if (transport === undefined) {
      return Promise.reject(new InvalidStateError("Cannot start TLS: not connected yet"));
    }
    return transport[kStartTls](options as StartTlsOptions, () => this.reader.takeBuffered());
  }

  /**
   * Resolves at once unless writing is paused; rejects once the connection is
   * lost, or with `options.signal`'s reason when it aborts first (then the
   * connection and the other waits on it are left as they are).
   */
  drain(options?: DrainOptions): Promise<void> {
    const signal = options?.signal;
    if (signal === undefined) return this.#drainShared();
    if (signal.aborted) return Promise.reject(abortReason(signal));
    if (!this.needsDrain) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(abortReason(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      this.#drainShared().then(
        () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error as Error);
        },
      );
    });
  }

  #drainShared(): Promise<void> {
    if (!this.needsDrain) return Promise.resolve();
    if (!this.#lost && this.#writer?.transport.isClosing()) {
      // As asyncio: yield first so that connectionLost can run. Without this a
      // `write(); await drain()` loop on a reset socket never leaves the microtask
      // queue, so the "close" event that would stop it never fires.
      return new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#drainNow());
    }
    return this.#drainNow();
  }

  #drainNow(): Promise<void> {
    if (this.#lost) return Promise.reject(this.#connectionLostError("Cannot drain"));
    if (!this.#writingPaused) return Promise.resolve();
    const waits = this.#waitsNow();
    if (waits.drain === undefined) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      waits.drain = { promise, resolve, reject };
    }
    return waits.drain.promise;
  }

  /** Whether {@link drain} would wait or fail: writing is paused, or the connection is closing or gone. */
  get needsDrain(): boolean {
    return this.#writingPaused || this.#lost || this.#writer?.transport.isClosing() === true;
  }

  /** Whether the connection is gone. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Resolves once the connection is lost (never rejects). */
  waitClosed(): Promise<void> {
    if (this.#lost) return Promise.resolve();
    const waits = this.#waitsNow();
    if (waits.closed === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((res) => {
        resolve = res;
      });
      waits.closed = { promise, resolve };
    }
    return waits.closed.promise;
  }

  #connectionLostError(what: string): Error {
    const cause = this.#waits?.lostError;
    const peer = this.#writer?.transport.info.peername;
    // A timeout that closed the connection says so, not a bare "connection lost".
    const detail =
      cause instanceof TimeoutError && cause.closedConnection
        ? cause.message.charAt(0).toLowerCase() + cause.message.slice(1)
        : "connection lost";
    return new ConnectionClosedError(`${what}: ${detail}`, { cause, peer });
  }
}
