/**
 * The streams echo server of seed 000 (`asyncio_echo_server_coroutine.py`),
 * with seed 000/001's prefix echo (`Got: `, `You Got `) and seed 001's error
 * isolation demo (`boom\n`) as options.
 *
 * @module
 */

import { bytesRepr } from "../framing/ascii-repr.js";
import type { ChunkVisitor, StreamReader } from "../streams/stream-reader.js";
import { type AppOptions, type AppWriter, isConnectionLoss, isShutdown } from "./app-options.js";
import type { Logger } from "./logger.js";
import { peerLoggerName, peerOf } from "./peer.js";

/** Options of the echo apps. */
export interface EchoOptions extends AppOptions {
  /** The most bytes taken by one read. Default 65536 (the seed reads 128; Node delivers up to 64 KiB). */
  readSize?: number;
  /** Sent before each reply: seed 000's `Got: `, seed 001's `You Got `. Default: none. */
  prefix?: Uint8Array;
  /**
   * Chunks that make the handler throw (seed 001's `boom\n`), to show that an
   * error closes only its own connection. Compared whole, byte for byte. Default: none.
   */
  failOn?: readonly Uint8Array[];
}

/** The default read size of the echo apps. */
export const DEFAULT_READ_SIZE = 65536;

/** The error thrown for a chunk listed in `failOn`, as seed 001's `raise Exception('Boom!')`. */
export function boom(chunk: Uint8Array): Error {
  return new Error(`Boom! (received ${bytesRepr(chunk)})`);
}

/** Whether `chunk` equals one of `failOn`. */
export function isFailChunk(chunk: Buffer, failOn: readonly Uint8Array[] | undefined): boolean {
  return failOn?.some((bad) => chunk.equals(bad)) === true;
}

/** The connection's `echo_HOST_PORT` logger when debug is on, else `undefined` (nothing to build). */
export function connectionLogger(
  logger: Logger,
  prefix: string,
  writer: AppWriter,
): Logger | undefined {
  return logger.enabled("debug") ? logger.child(peerLoggerName(prefix, peerOf(writer))) : undefined;
}

/**
 * Whether `error` is an echo connection's expected end, the shutdown `signal`
 * aborting or the peer going away, which it logs on `log`; false for a failure.
 */
export function isQuietEnd(
  error: unknown,
  signal: AbortSignal | undefined,
  log: Logger | undefined,
): boolean {
  if (isShutdown(error, signal)) {
    log?.debug("shutting down");
    return true;
  }
  if (isConnectionLoss(error)) {
    log?.debug(`connection lost: ${(error as Error).message}`);
    return true;
  }
  return false;
}

/**
 * One read of up to `size` bytes; `undefined` instead of an error at a quiet
 * end ({@link isQuietEnd}). `options` goes to `read` as is, for its `signal`.
 */
export async function readChunk(
  reader: StreamReader,
  size: number,
  options: { signal?: AbortSignal | undefined },
  log: Logger | undefined,
): Promise<Buffer | undefined> {
  try {
    return await reader.read(size, options);
  } catch (error) {
    if (isQuietEnd(error, options.signal, log)) return undefined;
    throw error;
  }
}

/** Checks `readSize`: a positive integer. */
export function validateReadSize(readSize: number | undefined, fallback: number): number {
  const size = readSize ?? fallback;
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new RangeError(`Invalid readSize: must be a positive integer, got ${size}`);
  }
  return size;
}

/**
 * Serves one streams echo connection: reads a chunk, writes it back (after
 * `prefix`), awaits `drain()` when the writer needs it, until the peer's EOF; the caller (startServer)
 * then closes the connection. Throws on a chunk listed in `failOn`.
 *
 * Logs at debug level on a logger named `echo_HOST_PORT`, as the seed:
 * `connection accepted`, `received b'...'`, `sent b'...'`, `closing`. Nothing
 * is formatted when debug is off.
 */
export function echo(reader: StreamReader, writer: AppWriter, options: EchoOptions): Promise<void> {
  let readSize: number;
  try {
    readSize = validateReadSize(options.readSize, DEFAULT_READ_SIZE);
  } catch (error) {
    return Promise.reject(error);
  }
  const log = connectionLogger(options.logger, "echo", writer);
  log?.debug("connection accepted");
  return echoLoop(reader, writer, options, readSize, log);
}

/** The reply to one chunk: itself after `prefix`; throws for a `failOn` chunk (seed 001's error). */
export function echoReply(data: Buffer, options: EchoOptions): Buffer {
  if (options.failOn !== undefined && isFailChunk(data, options.failOn)) throw boom(data);
  return options.prefix === undefined ? data : Buffer.concat([options.prefix, data]);
}

/** Echoes the chunks a reader hands over while the loop waits; false when the writer needs a drain. */
class Echoer implements ChunkVisitor {
  readonly #writer: AppWriter;

  constructor(writer: AppWriter) {
    this.#writer = writer;
  }

  onChunk(data: Buffer): boolean {
    this.#writer.write(data);
    return !this.#writer.needsDrain;
  }
}

// The loop alone is async, with as few locals as it needs: a suspended frame
// keeps every one of them, for every idle connection. `options` goes to `read`
// as is, for its `signal`.
async function echoLoop(
  reader: StreamReader,
  writer: AppWriter,
  options: EchoOptions,
  readSize: number,
  log: Logger | undefined,
): Promise<void> {
  // Debug off and the seed's plain echo: chunks are echoed as they arrive, in the
  // data event, with no promise per chunk (reader.waitChunks); the loop wakes to
  // drain and at the end. With a prefix or failOn what a read returns matters (arrivals
  // queued before the loop resumes are one read), so those keep the plain read loop.
  const plain = options.prefix === undefined && options.failOn === undefined;
  const echoer = log === undefined && plain ? new Echoer(writer) : undefined;
  try {
    for (;;) {
      const data =
        echoer === undefined
          ? await reader.read(readSize, options)
          : await reader.waitChunks(echoer, readSize, options);
      if (data === undefined) {
        if (writer.needsDrain) await writer.drain();
        continue;
      }
      if (data.length === 0) {
        log?.debug("closing");
        return;
      }
      if (log !== undefined) log.debug(`received ${bytesRepr(data)}`);
      const reply = echoReply(data, options);
      writer.write(reply);
      if (writer.needsDrain) await writer.drain();
      if (log !== undefined) log.debug(`sent ${bytesRepr(reply)}`);
    }
  } catch (error) {
    if (!isQuietEnd(error, options.signal, log)) throw error;
  }
}
