import {
  type ConnectionOptions,
  createConnection,
  createUnixConnection,
} from "../protocols/create-connection.js";
import { StreamProtocol } from "./stream-protocol.js";
import { resolveLimit, type StreamReader, type StreamReaderOptions } from "./stream-reader.js";
import type { StreamWriter } from "./stream-writer.js";

/** Options of {@link openConnection}: the connection's and the reader's. */
export interface OpenConnectionOptions extends ConnectionOptions, StreamReaderOptions {}

/** The two halves of a stream connection. */
export interface StreamPair {
  /** The connection's incoming bytes. */
  reader: StreamReader;
  /** The connection's outgoing bytes; `writer.close()` ends the connection. */
  writer: StreamWriter;
}

/**
 * Connects to `host`:`port` and returns its reader and writer, asyncio's
 * `open_connection`. `options.signal` cancels the connect; `options.tls`
 * makes it TLS (`true`: certificates verified, server name from `host`).
 */
export async function openConnection(
  host: string,
  port: number,
  options: OpenConnectionOptions = {},
): Promise<StreamPair> {
  resolveLimit(options.limit);
  const [, protocol] = await createConnection(
    () => new StreamProtocol(options),
    host,
    port,
    options,
  );
  return { reader: protocol.reader, writer: protocol.writer };
}

/** As {@link openConnection}, to a Unix socket at `path`. */
export async function openUnixConnection(
  path: string,
  options: OpenConnectionOptions = {},
): Promise<StreamPair> {
  resolveLimit(options.limit);
  const [, protocol] = await createUnixConnection(() => new StreamProtocol(options), path, options);
  return { reader: protocol.reader, writer: protocol.writer };
}
