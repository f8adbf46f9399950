/**
 * `createConnectionPair`: two connected in-memory ends, driven by the
 * library's own `Transport`, `StreamReader` and `StreamWriter`.
 *
 * @module
 */

import { InvalidStateError } from "../errors.js";
import type { Clock } from "../protocols/clock.js";
import type { ConnectionInfo, SocketAddress } from "../protocols/connection-info.js";
import type { Protocol } from "../protocols/protocol.js";
import { Transport, type TransportOptions } from "../protocols/transport.js";
import { StreamProtocol } from "../streams/stream-protocol.js";
import type { StreamReader, StreamReaderOptions } from "../streams/stream-reader.js";
import type { StreamWriter } from "../streams/stream-writer.js";
import { type LinkOptions, MemoryLink, type MemoryStream } from "./memory-link.js";

/** Options of {@link createConnectionPair}. */
export interface ConnectionPairOptions extends LinkOptions {
  /**
   * The facts of the first end (`a`): its `sockname` is its own address, its
   * `peername` the second end's; `b` gets them swapped. Default: `a` is
   * `127.0.0.1:50000`, `b` is `127.0.0.1:7000` (a client and a server).
   */
  info?: ConnectionInfo;
  /** The clock of the transports `streams()` and `protocol()` make (their idle timeout, close linger). Default `systemClock`. */
  clock?: Clock;
}

/** What {@link ConnectionEnd.streams} gives: the real reader and writer of a transport over the end. */
export interface EndStreams {
  /** The reader of what the other end sends. */
  reader: StreamReader;
  /** The writer of what the other end reads. */
  writer: StreamWriter;
}

/** An IPv4 or IPv6 {@link SocketAddress} for `host` and `port`. */
export function socketAddress(host: string, port: number): SocketAddress {
  return Object.freeze({ address: host, port, family: host.includes(":") ? "IPv6" : "IPv4" });
}

/**
 * The `ECONNRESET` error a socket whose peer reset reports. The transport
 * turns it into a `ConnectionResetError`, as it does a real one.
 */
export function connectionResetError(): Error {
  return Object.assign(new Error("read ECONNRESET"), {
    code: "ECONNRESET",
    errno: -104,
    syscall: "read",
  });
}

/**
 * One end of an in-memory connection. Use it raw (`stream`, or a scripted
 * peer: `run(script, end)`), or put the library on it: `streams()` for a
 * reader and writer, `protocol(p)` for a `Transport` driving `p` (one of the
 * two, once). Its peer is the other end of the same pair, or the server's side
 * of a `serveInMemory` connection.
 */
export class ConnectionEnd {
  /** The in-memory `TransportStream` of this end: a Transport's socket. */
  readonly stream: MemoryStream;
  /** This end's facts: `sockname` its own address, `peername` the other end's. */
  readonly info: ConnectionInfo;
  readonly #link: MemoryLink;
  readonly #clock: Clock | undefined;
  #transport: Transport | undefined;

  /** @internal Made by {@link createConnectionPair} and `serveInMemory`. */
  constructor(stream: MemoryStream, link: MemoryLink, info: ConnectionInfo, clock?: Clock) {
    this.stream = stream;
    this.#link = link;
    this.info = info;
    this.#clock = clock;
  }

  /**
   * A real `StreamReader` / `StreamWriter` pair over this end, as
   * `openConnection` gives over a socket.
   * @throws {InvalidStateError} when this end already has a transport.
   */
  streams(options: StreamReaderOptions = {}): EndStreams {
    const protocol = new StreamProtocol(options);
    this.protocol(protocol);
    return { reader: protocol.reader, writer: protocol.writer };
  }

  /**
   * A real `Transport` over this end, driving `protocol` (whose
   * `connectionMade` runs now). `options.clock` defaults to the pair's.
   * @throws {InvalidStateError} when this end already has a transport.
   */
  protocol(protocol: Protocol, options: TransportOptions = {}): Transport {
    if (this.#transport !== undefined) {
      throw new InvalidStateError("Cannot attach a protocol: this end already has a transport");
    }
    const clock = options.clock ?? this.#clock;
    const transportOptions = clock === undefined ? options : { ...options, clock };
    this.#transport = new Transport(this.stream, protocol, transportOptions, this.info);
    return this.#transport;
  }

  /** The transport `streams()` or `protocol()` made, if any. */
  get transport(): Transport | undefined {
    return this.#transport;
  }

  /** Manual delivery: moves one chunk (or EOF) each way, synchronously. Returns whether anything moved. Works in auto delivery too. */
  pump(): boolean {
    return this.#link.pump();
  }

  /**
   * Delivers both ways until the connection is at rest, letting handlers
   * answer between bursts. A paused reader with a full window is at rest.
   * @throws {Error} after `limit` chunks (default 100,000) without coming to rest, instead of hanging.
   */
  flush(limit?: number): Promise<void> {
    return this.#link.flush(limit);
  }

  /** Sends EOF from this end (a half-close) after what it wrote; reading goes on. */
  eof(): void {
    this.stream.end();
  }

  /**
   * Resets the connection from this end: this end closes at once without an
   * error, the other end gets `error` (default an `ECONNRESET`, which its
   * transport reports as a `ConnectionResetError`) and closes; bytes in
   * flight either way are dropped.
   */
  reset(error: Error = connectionResetError()): void {
    this.stream.reset(error);
  }

  /**
   * Makes the `nth` write from now on this end fail (1, the default: the
   * next), as a socket's write to a gone peer does: the write is not sent,
   * the stream emits `error` (default an `EPIPE`) and closes.
   * @throws {RangeError} when `nth` is not a positive integer.
   */
  failWrite(nth = 1, error?: Error): void {
    if (!Number.isSafeInteger(nth) || nth <= 0) {
      throw new RangeError(`Invalid nth: must be a positive integer, got ${nth}`);
    }
    const err =
      error ?? Object.assign(new Error("write EPIPE"), { code: "EPIPE", syscall: "write" });
    this.stream.failWrite(nth, err);
  }

  /** Whether this end's reading is paused (its transport's `pauseReading`, or a reader's flow control). */
  get readingPaused(): boolean {
    return this.stream.isPaused();
  }

  /** Bytes sent to this end and not yet delivered to it (held back by a pause, a shut window or manual delivery). */
  get pendingBytes(): number {
    return this.stream.pendingBytes;
  }

  /** Bytes this end wrote that the other end has not taken yet: its transport's write buffer. */
  get unsentBytes(): number {
    return this.stream.writableLength;
  }

  /** Whether this end is closed (destroyed, or both halves ended). */
  get closed(): boolean {
    return this.stream.destroyed;
  }
}

const DEFAULT_INFO: ConnectionInfo = Object.freeze({
  sockname: socketAddress("127.0.0.1", 50000),
  peername: socketAddress("127.0.0.1", 7000),
});

/**
 * Two connected in-memory ends: what one writes the other receives, through
 * the library's own code (a `Transport` over an in-memory `TransportStream`),
 * with no socket and nothing global patched.
 *
 * @example A protocol under test, talked to by a reader and writer:
 * ```ts
 * const [client, server] = createConnectionPair({ chunking: "byte" });
 * server.protocol(new EchoProtocol());
 * const { reader, writer } = client.streams();
 * writer.write("hello\n");
 * assert.equal((await reader.readLine()).toString(), "hello\n");
 * ```
 *
 * @throws {TypeError} / {RangeError} for a bad `delivery`, `chunking` or `window`.
 */
export function createConnectionPair(
  options: ConnectionPairOptions = {},
): [a: ConnectionEnd, b: ConnectionEnd] {
  const link = new MemoryLink(options);
  const info = options.info ?? DEFAULT_INFO;
  const mirror: ConnectionInfo = Object.freeze({
    sockname: info.peername,
    peername: info.sockname,
    ...(info.tls === undefined ? {} : { tls: info.tls }),
  });
  return [
    new ConnectionEnd(link.a, link, info, options.clock),
    new ConnectionEnd(link.b, link, mirror, options.clock),
  ];
}
