import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { ConnectionClosedError, normalizeSocketError, TimeoutError } from "../errors.js";
import type { Protocol } from "./protocol.js";
import { type Sweeper, SweeperPool } from "./sweeper.js";

/** High and low water marks of a transport's write buffer, in bytes. */
export interface WriteBufferLimits {
  /** Above this many buffered bytes the protocol's `pauseWriting()` is called. Default 64 KiB, or 4 × `low`. */
  high?: number;
  /** At or below this many buffered bytes `resumeWriting()` is called. Default `high / 4`. */
  low?: number;
}

/** The address of one end of a TCP connection, as Node reports it. */
export interface SocketAddress {
  address: string;
  port: number;
  family: string;
}

/** Options of a Transport, given by the server or client that creates it. */
export interface TransportOptions {
  /** Write buffer marks; see {@link WriteBufferLimits}. */
  writeBufferLimits?: WriteBufferLimits;
  /**
   * Close the connection after this many milliseconds without reads or
   * writes. Checked every `idleTimeout / 2` ms, so the connection goes between
   * `idleTimeout` and 1.5 × `idleTimeout` after its last read or write. While
   * the write buffer is above its high-water mark only finished writes count
   * (Node tells no progress within one write): a peer that keeps sending but
   * reads none of the replies is idle too, and so is one that reads a single
   * write too slowly to finish it within `idleTimeout`. Default: never.
   */
  idleTimeout?: number;
  /** Called with an error thrown by one of the protocol's callbacks, before the connection is aborted. */
  onProtocolError?: (error: Error, transport: Transport) => void;
  /** Called once, after `connectionLost`. */
  onLost?: (transport: Transport) => void;
  /**
   * What `getExtraInfo` reports as `peername` / `sockname` when the socket
   * cannot tell, as on a Unix socket: a server gives its path as `sockname`, a
   * client the path it connected to as `peername`; the unnamed end is `""`.
   */
  names?: { peername?: string; sockname?: string };
}

const DEFAULT_HIGH = 64 * 1024;
const EMPTY = Buffer.alloc(0);
const kTransport: unique symbol = Symbol("asyncnet.transport");
type TransportSocket = Socket & { [kTransport]: Transport };
/** How long `close()` waits for the peer's EOF after sending its own, in ms. */
export const LINGER_MS = 2000;

/** Resolves asyncio's defaults: only `high` → `low = high / 4`; only `low` → `high = 4 × low`. */
export function resolveWriteBufferLimits(limits: WriteBufferLimits = {}): {
  high: number;
  low: number;
} {
  const { high: h, low: l } = limits;
  for (const [name, value] of [
    ["high", h],
    ["low", l],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(
        `Invalid write buffer limit: ${name} must be an integer >= 0, got ${value}`,
      );
    }
  }
  const high = h ?? (l === undefined ? DEFAULT_HIGH : 4 * l);
  const low = l ?? Math.floor(high / 4);
  if (low > high) {
    throw new RangeError(`Invalid write buffer limits: low (${low}) is above high (${high})`);
  }
  return { high, low };
}

/**
 * A connection's byte pipe, asyncio's `Transport` over a `node:net` or
 * `node:tls` socket. It owns the socket and drives one {@link Protocol}.
 *
 * Writes never block and never fail synchronously because of the peer: they
 * are buffered, and the protocol is told through `pauseWriting` /
 * `resumeWriting` when the buffer crosses its marks. Writes after `close()`
 * or after the connection was lost are dropped, as asyncio does (a handler
 * still replying while the server shuts down is not a bug); writes after
 * `writeEof()` throw, because they are.
 */
export class Transport {
  readonly #socket: Socket;
  readonly #protocol: Protocol;
  readonly #secure: boolean;
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
  // The idle timeout: reads and writes count, the sweeper looks every idleTimeout / 2.
  #idleSweeper: Sweeper<Transport> | undefined;
  #activity = 0;
  #seenActivity = -1;
  #quietTicks = 0;

  // One timer per idleTimeout for every transport, not a Node timer per socket
  // refreshed on every read and write (which showed in the echo profiles).
  static readonly #idleSweepers = new SweeperPool<Transport>((transport) => transport.#checkIdle());

  /** Takes over `socket`, which must be connected, and calls `protocol.connectionMade`. */
  constructor(socket: Socket, protocol: Protocol, options: TransportOptions = {}) {
    this.#socket = socket;
    this.#protocol = protocol;
    this.#secure = "encrypted" in socket && (socket as TLSSocket).encrypted === true;
    this.#options = options;
    ({ high: this.#high, low: this.#low } = resolveWriteBufferLimits(options.writeBufferLimits));

    // Shared listeners that find this transport on the socket: per-connection
    // closures were a fifth of an idle connection's heap.
    (socket as TransportSocket)[kTransport] = this;
    socket.on("data", Transport.#onData);
    socket.on("end", Transport.#onEnd);
    socket.on("error", Transport.#onError);
    socket.on("close", Transport.#onClose);
    if (options.idleTimeout !== undefined && options.idleTimeout > 0 && !socket.destroyed) {
      this.#idleSweeper = Transport.#idleSweepers.get(Math.ceil(options.idleTimeout / 2));
      this.#idleSweeper.add(this);
    }
    try {
      protocol.connectionMade(this);
    } catch (error) {
      this.#protocolFailed(error);
    }
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
   * @throws {Error} on a TLS transport, which cannot half-close (see `canWriteEof`).
   */
  writeEof(): void {
    if (!this.canWriteEof()) throw new Error("Cannot write EOF: TLS transports cannot half-close");
    if (this.#eofWritten || this.#closing) return;
    this.#eofWritten = true;
    this.#socket.end();
  }

  /** Whether `writeEof` is supported: true for TCP and Unix sockets, false for TLS (as in asyncio). */
  canWriteEof(): boolean {
    return !this.#secure;
  }

  /**
   * Closes the connection after flushing the buffered data. The protocol gets no
   * more data; `connectionLost()` follows once the socket is closed. Idempotent.
   *
   * The close lingers: after sending EOF it waits up to {@link LINGER_MS} for
   * the peer's EOF, discarding what the peer still sends, before closing the
   * socket.
   */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    const socket = this.#socket;
    if (socket.destroyed) return;
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
      const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
      socket.once("close", () => clearTimeout(timer));
    };
    if (socket.writableFinished) linger();
    else socket.end(linger);
  }

  /** Closes the connection at once, dropping buffered data. `connectionLost(error)` follows. */
  abort(error?: Error): void {
    this.#closing = true;
    if (error !== undefined && this.#error === undefined) this.#error = error;
    // Node forgets the peer's address once the socket is destroyed unless it was read
    // before: read it now, so that whoever reports this abort can say who it was.
    void this.#socket.remotePort;
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
    this.#socket.pause();
  }

  /** Undoes `pauseReading()`. */
  resumeReading(): void {
    if (this.#reading || this.#closing) return;
    this.#reading = true;
    this.#socket.resume();
  }

  /** Whether the transport is delivering data to the protocol. */
  isReading(): boolean {
    return this.#reading && !this.#closing;
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
  getWriteBufferLimits(): { high: number; low: number } {
    return { high: this.#high, low: this.#low };
  }

  /** Bytes written but not yet handed to the kernel. */
  getWriteBufferSize(): number {
    return this.#socket.writableLength;
  }

  /**
   * Information about the connection, by asyncio's names:
   * `peername` and `sockname` (a {@link SocketAddress}, or the path for a Unix
   * socket), `socket` (the Node socket), `peercert` and `cipher` (TLS only).
   * Returns `fallback` for an unknown name or one that does not apply.
   */
  getExtraInfo(name: string, fallback?: unknown): unknown {
    const socket = this.#socket;
    switch (name) {
      case "peername":
        if (socket.remotePort === undefined) {
          return socket.remoteAddress ?? this.#options.names?.peername ?? fallback;
        }
        return {
          address: socket.remoteAddress,
          port: socket.remotePort,
          family: socket.remoteFamily,
        };
      case "sockname": {
        const local = socket.address();
        // Bun gives an unnamed Unix socket { address, family, port } all undefined.
        return "port" in local && typeof local.port === "number"
          ? local
          : (this.#options.names?.sockname ?? fallback);
      }
      case "socket":
        return socket;
      case "peercert":
        return this.#secure ? (socket as TLSSocket).getPeerCertificate() : fallback;
      case "cipher":
        return this.#secure ? (socket as TLSSocket).getCipher() : fallback;
      default:
        return fallback;
    }
  }

  static #onData(this: TransportSocket, data: Buffer): void {
    const transport = this[kTransport];
    if (transport.#closing) return;
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
    transport.#error ??= normalizeSocketError(error);
  }

  /** The idle sweeper's tick: quiet for two ticks in a row means quiet for idleTimeout. */
  #checkIdle(): void {
    if (this.#activity !== this.#seenActivity) {
      this.#seenActivity = this.#activity;
      this.#quietTicks = 0;
    } else if (++this.#quietTicks >= 2) {
      // A closing transport too: a peer that reads nothing must not hold it open.
      this.abort(new TimeoutError("Connection closed: idle timeout"));
    }
  }

  static #onClose(this: TransportSocket): void {
    const transport = this[kTransport];
    if (transport.#lost) return;
    transport.#lost = true;
    transport.#closing = true;
    transport.#writingPaused = false;
    transport.#idleSweeper?.delete(transport);
    try {
      transport.#protocol.connectionLost(transport.#error);
    } catch (error) {
      transport.#options.onProtocolError?.(toError(error), transport);
    }
    transport.#options.onLost?.(transport);
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

  #call(method: "pauseWriting" | "resumeWriting"): void {
    try {
      this.#protocol[method]?.();
    } catch (error) {
      this.#protocolFailed(error);
    }
  }

  #protocolFailed(error: unknown): void {
    const err = toError(error);
    this.#options.onProtocolError?.(err, this);
    this.abort(err);
  }
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
