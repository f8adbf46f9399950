/**
 * Seed 001's accumulate-until-quit server: buffers what the client sends until
 * it ends with `quit\n` (or EOF), then sends all of it back and closes.
 *
 * @module
 */

import { bytesRepr } from "../framing/ascii-repr.js";
import type { StreamReader } from "../streams/stream-reader.js";
import type { AppWriter } from "./app-options.js";
import {
  boom,
  connectionLogger,
  DEFAULT_READ_SIZE,
  type EchoOptions,
  isFailChunk,
  isQuietEnd,
  readChunk,
  validateReadSize,
} from "./echo.js";

/** Options of {@link echoUntil}. */
export interface EchoUntilOptions extends EchoOptions {
  /** The word that ends a message, followed by `\n`. Default `quit` (the seed's `quit\n`). */
  until?: string;
}

/** The reply to a message over the limit: `ERROR. Message too long (more than N bytes)\r\n`. */
export function messageTooLong(limit: number): Buffer {
  return Buffer.from(`ERROR. Message too long (more than ${limit} bytes)\r\n`, "latin1");
}

/**
 * Serves one connection as seed 001's blocking server did, without blocking
 * the others: reads chunks into a buffer until the buffer ends with
 * `until + "\n"` (checked after each chunk, as the seed checks
 * `buffer[-5:] != b'quit\n'`), or until EOF or shutdown; then writes the whole
 * buffer back (after `prefix`) and returns, so the server closes the connection.
 *
 * Unlike the seed the buffer is bounded: once it would hold more than `limit`
 * bytes (default: the reader's limit) the server answers
 * `ERROR. Message too long (more than N bytes)\r\n` and closes.
 *
 * Logs at debug level on `echo_HOST_PORT`: `connection accepted`,
 * `received b'...'` per chunk, `sent b'...'`, `closing`.
 */
export async function echoUntil(
  reader: StreamReader,
  writer: AppWriter,
  options: EchoUntilOptions,
): Promise<void> {
  const readSize = validateReadSize(options.readSize, DEFAULT_READ_SIZE);
  const limit = options.limit ?? reader.limit;
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new RangeError(`Invalid limit: must be a positive integer, got ${limit}`);
  }
  const end = Buffer.from(`${options.until ?? "quit"}\n`, "utf8");
  const log = connectionLogger(options.logger, "echo", writer);
  log?.debug("connection accepted");
  const chunks: Buffer[] = [];
  let size = 0;
  let tail = Buffer.alloc(0);
  try {
    for (;;) {
      const data = await readChunk(reader, readSize, options, log);
      if (data === undefined || data.length === 0) break;
      log?.debug(`received ${bytesRepr(data)}`);
      if (isFailChunk(data, options.failOn)) throw boom(data);
      size += data.length;
      if (size > limit) {
        log?.debug(`message over the limit of ${limit} bytes`);
        writer.write(messageTooLong(limit));
        await writer.drain();
        log?.debug("closing");
        return;
      }
      chunks.push(data);
      tail = Buffer.concat([tail, data]);
      tail = tail.subarray(Math.max(0, tail.length - end.length));
      if (tail.equals(end)) break;
    }
    const reply = Buffer.concat(
      options.prefix === undefined ? chunks : [options.prefix, ...chunks],
    );
    writer.write(reply);
    await writer.drain();
    log?.debug(`sent ${bytesRepr(reply)}`);
    log?.debug("closing");
  } catch (error) {
    if (!isQuietEnd(error, options.signal, log)) throw error;
  }
}
