/**
 * The Protocol echo server of seed 003 (`asyncio_echo_server_protocol.py`).
 *
 * @module
 */

import { TimeoutError } from "../errors.js";
import { bytesRepr } from "../framing/ascii-repr.js";
import type { Protocol } from "../protocols/protocol.js";
import type { Transport } from "../protocols/transport.js";
import { boom, isFailChunk } from "./echo.js";
import type { Logger } from "./logger.js";
import { peerLoggerName, peerOf } from "./peer.js";

/** Options of an {@link EchoServerProtocol}. */
export interface EchoProtocolOptions {
  /** The server's logger; each connection logs on a child named `EchoServer_HOST_PORT`. */
  logger: Logger;
  /** Sent before each reply, as the streams echo's `prefix`. Default: none. */
  prefix?: Uint8Array;
  /** Chunks that make `dataReceived` throw, as the streams echo's `failOn`. Default: none. */
  failOn?: readonly Uint8Array[];
}

/**
 * One connection of the protocol echo server, seed 003's `EchoServer`:
 *
 * - `connectionMade` logs `connection accepted`;
 * - `dataReceived` writes the data back (after `prefix`), logging
 *   `received b'...'` and `sent b'...'`;
 * - `eofReceived` logs `received EOF` and answers with its own EOF when the
 *   transport can (not over TLS); the transport then closes once both sides
 *   sent EOF and the replies are flushed;
 * - `connectionLost` logs `closing`, or `ERROR: MESSAGE` at error level when
 *   the connection failed, or the `TimeoutError`'s message at info level when
 *   the server's idle timeout closed it (an expected end, not a failure).
 *
 * Beyond the seed, it does not buffer without bound for a client that sends
 * but does not read: reading is paused while the transport's write buffer is
 * above its high-water mark.
 *
 * Per-chunk messages are logged at debug level and not formatted when debug is off.
 */
export class EchoServerProtocol implements Protocol {
  readonly #options: EchoProtocolOptions;
  #transport: Transport | undefined;
  #log: Logger | undefined;
  #debug = false;

  constructor(options: EchoProtocolOptions) {
    this.#options = options;
  }

  connectionMade(transport: Transport): void {
    this.#transport = transport;
    this.#debug = this.#options.logger.enabled("debug");
    if (this.#debug) this.#logger().debug("connection accepted");
  }

  dataReceived(data: Buffer): void {
    if (this.#debug) this.#logger().debug(`received ${bytesRepr(data)}`);
    if (isFailChunk(data, this.#options.failOn)) throw boom(data);
    const { prefix } = this.#options;
    const reply = prefix === undefined ? data : Buffer.concat([prefix, data]);
    this.#transport?.write(reply);
    if (this.#debug) this.#logger().debug(`sent ${bytesRepr(reply)}`);
  }

  eofReceived(): void {
    if (this.#debug) this.#logger().debug("received EOF");
    if (this.#transport?.canWriteEof()) this.#transport.writeEof();
  }

  connectionLost(error?: Error): void {
    if (error instanceof TimeoutError) this.#logger().info(error.message);
    else if (error !== undefined) this.#logger().error(error.message);
    else if (this.#debug) this.#logger().debug("closing");
  }

  pauseWriting(): void {
    this.#transport?.pauseReading();
  }

  resumeWriting(): void {
    this.#transport?.resumeReading();
  }

  // Named when first used, not per connection: the transport's connection facts
  // (the peer's address) outlive its socket, and an idle connection keeps no name.
  #logger(): Logger {
    if (this.#log === undefined) {
      const transport = this.#transport;
      const peer = transport === undefined ? { address: "?" } : peerOf(transport);
      this.#log = this.#options.logger.child(peerLoggerName("EchoServer", peer));
    }
    return this.#log;
  }
}
