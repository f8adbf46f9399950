/**
 * The streams echo client of seed 000 (`asyncio_echo_client_coroutine.py`) and
 * the official one-shot client (`tcp_echo_client`).
 *
 * @module
 */

import { asciiRepr, bytesRepr } from "../framing/ascii-repr.js";
import type { ConnectionOptions } from "../protocols/create-connection.js";
import { openConnection } from "../streams/open-connection.js";
import type { Logger } from "./logger.js";

/** Where a client writes what it received: `process.stdout`, or any writable stream. */
export interface Output {
  /** Returns `false` when the caller should wait for `drain`. */
  write(chunk: Uint8Array | string): boolean;
  once(event: "drain", listener: () => void): unknown;
}

/** The seed's three messages, sent as three writes. */
export const SEED_MESSAGES: readonly string[] = [
  "This is the message. ",
  "It will be sent ",
  "in parts.",
];

/** The one-shot client's message. */
export const SEED_ONCE_MESSAGE = "Hello World!";

/** Options of {@link echoClient}. */
export interface EchoClientOptions {
  /** The messages, each sent as its own write (strings as UTF-8). Default {@link SEED_MESSAGES}. */
  messages?: readonly (string | Uint8Array)[];
  /** Logs `echo_client: ...` lines at debug level, as the seed. */
  logger: Logger;
  /** Receives every byte the server sends, in order. */
  output: Output;
  /** Cancels the connect and the reads; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The most bytes taken by one read. Default 65536 (the seed reads 128). */
  readSize?: number;
  /** Passed to `openConnection` (`connectTimeout`, `tls`, ...). */
  connection?: ConnectionOptions;
}

/** Writes `chunk` to `output`, waiting for `drain` when the stream asks for it. */
export async function writeOutput(output: Output, chunk: Uint8Array | string): Promise<void> {
  if (!output.write(chunk)) await new Promise<void>((resolve) => output.once("drain", resolve));
}

/**
 * Runs seed 000's client: connects, sends each message as a separate write,
 * half-closes (when the transport can: not over TLS), then copies everything
 * the server sends to `output` until the server's EOF, and closes. Resolves
 * with the number of bytes received.
 *
 * Logs at debug level on `echo_client`: `connecting to HOST port PORT`,
 * `sending b'...'`, `waiting for response`, `received b'...'`, `closing`.
 *
 * @throws the connection's error (refused, reset, timed out) or the signal's reason.
 */
export async function echoClient(
  host: string,
  port: number,
  options: EchoClientOptions,
): Promise<number> {
  const log = options.logger.child("echo_client");
  const debug = log.enabled("debug");
  const messages = options.messages ?? SEED_MESSAGES;
  const readSize = options.readSize ?? 65536;
  const readOptions = options.signal === undefined ? undefined : { signal: options.signal };
  log.debug(`connecting to ${host} port ${port}`);
  const { reader, writer } = await openConnection(host, port, {
    ...options.connection,
    signal: options.signal,
  });
  try {
    for (const message of messages) {
      const bytes = typeof message === "string" ? Buffer.from(message, "utf8") : message;
      writer.write(bytes);
      if (debug) log.debug(`sending ${bytesRepr(bytes)}`);
    }
    if (writer.canWriteEof()) writer.writeEof();
    await writer.drain();
    log.debug("waiting for response");
    let received = 0;
    for (;;) {
      const data = await reader.read(readSize, readOptions);
      if (data.length === 0) break;
      received += data.length;
      if (debug) log.debug(`received ${bytesRepr(data)}`);
      await writeOutput(options.output, data);
    }
    log.debug("closing");
    return received;
  } finally {
    writer.close();
  }
}

/** Options of {@link echoClientOnce}. */
export interface EchoClientOnceOptions extends Omit<EchoClientOptions, "messages"> {
  /** The message. Default `Hello World!`. */
  message?: string;
}

const decoder = new TextDecoder("utf-8");

/**
 * Runs the official one-shot client: connects, prints `Send: 'MESSAGE'` to
 * `output`, sends the message, reads once (up to `readSize`, default 100
 * bytes), prints `Received: 'REPLY'` and `Close the socket`, and closes.
 * Texts are shown with Python's `ascii()` (the seed's `%r` would keep
 * printable non-ASCII characters); bytes that are not UTF-8 show as `\ufffd`.
 * Resolves with the reply's bytes (empty if the server closed without one).
 */
export async function echoClientOnce(
  host: string,
  port: number,
  options: EchoClientOnceOptions,
): Promise<Buffer> {
  const log = options.logger.child("tcp_echo_client");
  const message = options.message ?? SEED_ONCE_MESSAGE;
  log.debug(`connecting to ${host} port ${port}`);
  const { reader, writer } = await openConnection(host, port, {
    ...options.connection,
    signal: options.signal,
  });
  try {
    await writeOutput(options.output, `Send: ${asciiRepr(message)}\n`);
    writer.write(message);
    const readOptions = options.signal === undefined ? undefined : { signal: options.signal };
    const data = await reader.read(options.readSize ?? 100, readOptions);
    await writeOutput(options.output, `Received: ${asciiRepr(decoder.decode(data))}\n`);
    await writeOutput(options.output, "Close the socket\n");
    return data;
  } finally {
    writer.close();
  }
}
