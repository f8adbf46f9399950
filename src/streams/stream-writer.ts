import type { StartTlsClientOptions, StartTlsServerOptions } from "../protocols/start-tls.js";
import type { CloseOptions, ExtraInfoValue, Transport } from "../protocols/transport.js";
import type { StreamProtocol } from "./stream-protocol.js";

/** The options of {@link StreamWriter.startTls}: `Transport.startTls`'s, without `leftover` (the reader's buffer is used). */
export type StreamStartTlsOptions =
  Omit<StartTlsServerOptions, "leftover"> | Omit<StartTlsClientOptions, "leftover">;
/** Options of {@link StreamWriter.drain}. */
export interface DrainOptions {
  /**
   * Stops waiting when it aborts: the drain rejects with the signal's reason
   * (an `AbortError` when the reason is not an Error), at once if it has
   * already aborted. The connection and its buffered data are left as they
   * are, and so are other drains waiting with it. Default: none.
   */
  signal?: AbortSignal | undefined;
}

/**
 * The sending half of a stream connection, asyncio's `StreamWriter`. Writes
 * are buffered by the transport; `await writer.drain()` after writing is what
 * keeps a fast writer from outrunning a slow peer.
 */
export class StreamWriter implements AsyncDisposable {
  readonly #transport: Transport;
  readonly #protocol: StreamProtocol;

  /**
   * Made by `openConnection`, `startServer` and a {@link StreamProtocol}'s
   * `connectionMade` (the way to a writer over a transport of one's own).
   */
  constructor(transport: Transport, protocol: StreamProtocol) {
    this.#transport = transport;
    this.#protocol = protocol;
  }

  /** The underlying transport. */
  get transport(): Transport {
    return this.#transport;
  }

  /** Buffers `data` (strings as UTF-8). Dropped silently once the connection is lost, as asyncio. */
  write(data: Uint8Array | string): void {
    this.#transport.write(data);
  }

  /** Writes each chunk in order, batched into as few socket writes as possible. */
  writeLines(chunks: Iterable<Uint8Array | string>): void {
    this.#transport.writeLines(chunks);
  }

  /** Half-closes: sends EOF after the buffered data; reading goes on. */
  writeEof(): void {
    this.#transport.writeEof();
  }

  /** Whether `writeEof()` is supported (false over TLS). */
  canWriteEof(): boolean {
    return this.#transport.canWriteEof();
  }

  /**
   * Waits until the write buffer is at or below its low-water mark. Resolves
   * at once when it is not above the high-water mark. Rejects with a
   * `ConnectionClosedError` once the connection is lost (data still buffered
   * then can never be sent; its `cause` is what ended it, its `peer` the
   * peer, and `isConnectionLost` is true for it). Any number of concurrent
   * calls share one wait. With `options.signal`, rejects with the signal's
   * reason when it aborts first, leaving the connection as it is (see
   * {@link DrainOptions}); an already aborted signal rejects at once, even
   * with nothing to wait for.
   */
  drain(options?: DrainOptions): Promise<void> {
    return this.#protocol.drain(options);
  }

  /**
   * True when {@link drain} would not resolve at once: the write buffer is
   * above its high-water mark, or the connection is closing or lost (then
   * `drain()` yields to the event loop or rejects). A hot loop may write
   * `if (writer.needsDrain) await writer.drain()` to save the promise hop of
   * an `await` on a drain that is already done; it loses nothing by it.
   */
  get needsDrain(): boolean {
    return this.#protocol.needsDrain;
  }

  /**
   * Upgrades the connection to TLS in place (STARTTLS), asyncio 3.11's
   * `StreamWriter.start_tls`: `{ side: "server", key, cert }` on a writer of
   * an accepted connection, `{ side: "client", servername, ca }` on one of
   * `openConnection`. The same reader and writer go on over TLS; then
   * `getExtraInfo("peercert" | "cipher" | "protocol")` and
   * `transport.info.tls` tell its state.
   *
   * Call it with no `await` between writing (server) or reading (client) the
   * reply that announces the upgrade and this call. Bytes the reader still
   * holds then came after the command: they are never returned by a read.
   * With `bufferedPlaintext: "feed"` (the default) they are the first
   * handshake bytes (a ClientHello pipelined behind `STARTTLS\r\n` works,
   * injected plaintext fails the handshake); with `"reject"` their presence
   * closes the connection. A failed or timed-out handshake rejects with a
   * `TlsHandshakeError` and closes the connection (a server also reports it
   * through `onError`); `signal` cancels a pending upgrade. See
   * `Transport.startTls` for the rest.
   */
  startTls(options: StreamStartTlsOptions): Promise<void> {
    return this.#protocol.startTls(options);
  }

  /**
   * Closes the connection after flushing buffered data, then lingering for
   * the peer's EOF; `options.timeout` bounds it (see `Transport.close` and
   * `CloseOptions`). Idempotent.
   */
  close(options?: CloseOptions): void {
    this.#transport.close(options);
  }

  /** True once the connection is closing or closed. */
  isClosing(): boolean {
    return this.#transport.isClosing();
  }

  /** Resolves once the connection is fully closed. Never rejects. */
  waitClosed(): Promise<void> {
    return this.#protocol.waitClosed();
  }

  /** See `Transport.getExtraInfo`: `peername`, `sockname`, `socket`, `peercert`, `cipher`, `protocol`. */
  getExtraInfo<K extends string, F = undefined>(name: K, fallback?: F): ExtraInfoValue<K, F> {
    return this.#transport.getExtraInfo(name, fallback);
  }

  /** For `await using`: closes and waits until closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.waitClosed();
  }
}
