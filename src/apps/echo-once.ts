/**
 * The official asyncio one-shot echo server (seed 000 and 004's `handle_echo`):
 * one read of up to 100 bytes, the same bytes back, close.
 *
 * @module
 */

import { asciiRepr } from "../framing/ascii-repr.js";
import type { StreamReader } from "../streams/stream-reader.js";
import type { AppWriter } from "./app-options.js";
import {
  connectionLogger,
  type EchoOptions,
  echoReply,
  isQuietEnd,
  readChunk,
  validateReadSize,
} from "./echo.js";
import { peerOf, pythonAddress } from "./peer.js";

/** The seed's `reader.read(100)`. */
export const ONCE_READ_SIZE = 100;

const decoder = new TextDecoder("utf-8");

/**
 * Serves one connection as the official example: reads once (up to
 * `readSize`, default 100 bytes), writes the bytes back (after `prefix`),
 * awaits `drain()` and returns, so the server closes the connection. An
 * immediate EOF (or shutdown) sends nothing.
 *
 * Logs at debug level on `echo_HOST_PORT`, as the seed prints:
 * `Received 'TEXT' from ('HOST', PORT)`, `Send: 'TEXT'`, `Close the client socket`.
 * TEXT is the data decoded as UTF-8 (bad bytes become U+FFFD, where the seed
 * crashed) and shown with Python's `ascii()`, so non-ASCII characters are
 * escaped where the seed's `%r` would print them.
 */
export async function echoOnce(
  reader: StreamReader,
  writer: AppWriter,
  options: EchoOptions,
): Promise<void> {
  const readSize = validateReadSize(options.readSize, ONCE_READ_SIZE);
  const log = connectionLogger(options.logger, "echo", writer);
  try {
    const data = await readChunk(reader, readSize, options, log);
    if (data !== undefined && data.length > 0) {
      if (log !== undefined) {
        const message = asciiRepr(decoder.decode(data));
        log.debug(`Received ${message} from ${pythonAddress(peerOf(writer))}`);
        log.debug(`Send: ${message}`);
      }
      writer.write(echoReply(data, options));
      await writer.drain();
    }
    log?.debug("Close the client socket");
  } catch (error) {
    if (!isQuietEnd(error, options.signal, log)) throw error;
  }
}
