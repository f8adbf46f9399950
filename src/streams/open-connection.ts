import {
  type ConnectionOptions,
  createConnection,
  createUnixConnection,
} from "../protocols/create-connection.js";
import { StreamProtocol } from "./stream-protocol.js";
import type { StreamReader, StreamReaderOptions } from "./stream-reader.js";
import { resolveReaderOptions } from "./stream-reader-options.js";
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
  resolveReaderOptions(options);
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
  resolveReaderOptions(options);
  const [, protocol] = await createUnixConnection(() => new StreamProtocol(options), path, options);
  return { reader: protocol.reader, writer: protocol.writer };
}
