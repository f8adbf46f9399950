/**
 * The Protocol echo client of seed 003 (`asyncio_echo_client_protocol.py`).
 *
 * @module
 */

import { abortReason } from "../errors.js";
import { bytesRepr } from "../framing/ascii-repr.js";
import { type ConnectionOptions, createConnection } from "../protocols/create-connection.js";
import type { Protocol } from "../protocols/protocol.js";
import type { Transport } from "../protocols/transport.js";
import { type Output, SEED_MESSAGES } from "./echo-client.js";
import type { Logger } from "./logger.js";
import { peerOf } from "./peer.js";

/** Options of an {@link EchoClientProtocol}. */
export interface EchoClientProtocolOptions {
  /** Each sent as its own write. Default: the seed's three messages. */
  messages?: readonly (string | Uint8Array)[];
  /** Logs `EchoClient: ...` lines at debug level, as the seed. */
  logger: Logger;
  /** Receives every byte the server sends, in order. */
  output: Output;
}

/**
 * Seed 003's `EchoClient`: sends its messages as soon as it is connected, then
 * EOF when the transport can; copies what it receives to `output`; closes on
 * the server's EOF. {@link completed} is settled exactly once: resolved by the
 * server's EOF or a clean connection loss, rejected by a connection lost with
 * an error before EOF (where the seed resolved anyway).
 *
 * Logs at debug level on `EchoClient`: `connecting to HOST port PORT`,
 * `sending b'...'`, `received b'...'`, `received EOF`, `server closed connection`.
 *
 * Reading is paused while `output` asks to wait (`write` returned false) and
 * resumed on its `drain`.
 */
export class EchoClientProtocol implements Protocol {
  /** Settled once: see the class description. */
  readonly completed: Promise<void>;
  /** Bytes received so far. */
  received = 0;
  readonly #options: EchoClientProtocolOptions;
  readonly #log: Logger;
  readonly #debug: boolean;
  #transport: Transport | undefined;
  #waitingOutput = false;
  #settle: (error?: Error) => void;

  constructor(options: EchoClientProtocolOptions) {
    this.#options = options;
    this.#log = options.logger.child("EchoClient");
    this.#debug = this.#log.enabled("debug");
    let settle!: (error?: Error) => void;
    this.completed = new Promise<void>((resolve, reject) => {
      settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    let settled = false;
    this.#settle = (error) => {
      if (settled) return;
      settled = true;
      settle(error);
    };
  }

  connectionMade(transport: Transport): void {
    this.#transport = transport;
    if (this.#debug) {
      const peer = peerOf(transport);
      this.#log.debug(`connecting to ${peer.address} port ${peer.port}`);
    }
    for (const message of this.#options.messages ?? SEED_MESSAGES) {
      const bytes = typeof message === "string" ? Buffer.from(message, "utf8") : message;
      transport.write(bytes);
      if (this.#debug) this.#log.debug(`sending ${bytesRepr(bytes)}`);
    }
    if (transport.canWriteEof()) transport.writeEof();
  }

  dataReceived(data: Buffer): void {
    this.received += data.length;
    if (this.#debug) this.#log.debug(`received ${bytesRepr(data)}`);
    if (!this.#options.output.write(data) && !this.#waitingOutput) {
      this.#waitingOutput = true;
      this.#transport?.pauseReading();
      this.#options.output.once("drain", () => {
        this.#waitingOutput = false;
        this.#transport?.resumeReading();
      });
    }
  }

  eofReceived(): void {
    if (this.#debug) this.#log.debug("received EOF");
    this.#transport?.close();
    this.#settle();
  }

  connectionLost(error?: Error): void {
    if (this.#debug) this.#log.debug("server closed connection");
    this.#settle(error);
  }
}

/**
 * Connects with an {@link EchoClientProtocol} and waits for its completion.
 * Resolves with the number of bytes received.
 *
 * @throws the connection's error (refused, reset, timed out) or `signal`'s reason.
 */
export async function echoClientProtocol(
  host: string,
  port: number,
  options: EchoClientProtocolOptions & { signal?: AbortSignal; connection?: ConnectionOptions },
): Promise<number> {
  const [transport, protocol] = await createConnection(
    () => new EchoClientProtocol(options),
    host,
    port,
    { ...options.connection, signal: options.signal },
  );
  const signal = options.signal;
  const onAbort = () => transport.abort(abortReason(signal as AbortSignal));
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await protocol.completed;
    return protocol.received;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
