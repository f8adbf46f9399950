import { ConnectionClosedError, InvalidStateError } from "../errors.js";
import type { Protocol } from "../protocols/protocol.js";
import type { Transport } from "../protocols/transport.js";
import { StreamReader, type StreamReaderOptions } from "./stream-reader.js";
import { StreamWriter } from "./stream-writer.js";

/**
 * The adapter between the protocol layer and the streams layer (asyncio's
 * `StreamReaderProtocol`): feeds a StreamReader, tracks write pauses for
 * `drain()`, and records the connection's end for `waitClosed()`.
 */
export class StreamProtocol implements Protocol {
  readonly reader: StreamReader;
  #writer: StreamWriter | undefined;
  readonly #onConnected: ((reader: StreamReader, writer: StreamWriter) => void) | undefined;
  #writingPaused = false;
  #lost = false;
  #lostError: Error | undefined;
  #drain: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;
  #closed: { promise: Promise<void>; resolve: () => void } | undefined;

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
    this.reader.setTransport(transport);
    this.#writer = new StreamWriter(transport, this);
    this.#onConnected?.(this.reader, this.#writer);
  }

  dataReceived(data: Buffer): void {
    this.reader.feedData(data);
  }

  eofReceived(): boolean {
    this.reader.feedEof();
    // Stay half-open so the handler can still reply, except over TLS, which cannot half-close.
    return this.#writer?.canWriteEof() ?? false;
  }

  connectionLost(error?: Error): void {
    this.#lost = true;
    this.#lostError = error;
    if (error === undefined) this.reader.feedEof();
    else this.reader.setException(error);
    this.#writingPaused = false;
    if (this.#drain !== undefined) {
      this.#drain.reject(this.#connectionLostError("Cannot drain"));
      this.#drain = undefined;
    }
    this.#closed?.resolve();
  }

  pauseWriting(): void {
    this.#writingPaused = true;
  }

  resumeWriting(): void {
    this.#writingPaused = false;
    if (this.#drain !== undefined) {
      this.#drain.resolve();
      this.#drain = undefined;
    }
  }

  /** Resolves at once unless writing is paused; rejects once the connection is lost. */
  drain(): Promise<void> {
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
    if (this.#drain === undefined) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#drain = { promise, resolve, reject };
    }
    return this.#drain.promise;
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
    if (this.#closed === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((res) => {
        resolve = res;
      });
      this.#closed = { promise, resolve };
    }
    return this.#closed.promise;
  }

  #connectionLostError(what: string): Error {
    return new ConnectionClosedError(`${what}: connection lost`, { cause: this.#lostError });
  }
}
