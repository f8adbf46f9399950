/**
 * What the two line servers of seed 002 share: their flags and their start.
 *
 * @module
 */

import type { Logger } from "../../apps/logger.js";
import { startServer } from "../../streams/start-server.js";
import type { StreamReader } from "../../streams/stream-reader.js";
import { DEFAULT_LIMIT } from "../../streams/stream-reader.js";
import type { StreamWriter } from "../../streams/stream-writer.js";
import { parseHost, parsePort, parseSize, SERVER_NOTES, serverFlagsHelp } from "../args.js";
import type { CommandContext } from "../command.js";
import { connectionErrorLogger, listeningPort, serveUntilSignal } from "../serve.js";

/** The flags of both line servers. */
export const LINE_SERVER_OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  "max-line": { type: "string" },
} as const;

/** The seed's port for both line servers. */
export const LINE_SERVER_PORT = 8080;

/** The `--help` lines both line servers share. */
export const LINE_SERVER_HELP = `${serverFlagsHelp("localhost", LINE_SERVER_PORT)}
  --max-line BYTES    longest line answered, without its \\n (default ${DEFAULT_LIMIT});
                      a longer line gets 'ERROR. Line too long (more than N bytes)\\r\\n',
                      the rest of it is discarded and the connection stays open`;

/** The notes both line servers' `--help` end with. */
export const LINE_SERVER_NOTES = `A line is what comes before \\n; trailing whitespace is stripped (as Python's
rstrip(), so telnet's \\r goes). A client that sends EOF without quit gets its
last line answered and the connection closed. Clients are served concurrently.

On start it logs 'Server up, running, and waiting for call on HOST PORT' (as
the seed prints it). With --log-level debug each connection logs, as the seed
prints: Received connection from ('HOST', PORT), ('HOST', PORT) --> LINE,
('HOST', PORT) quit.

${SERVER_NOTES}`;

/** The per-connection app of a line server. */
export type LineApp = (
  reader: StreamReader,
  writer: StreamWriter,
  options: { logger: Logger; limit: number; signal: AbortSignal },
) => Promise<void>;

/**
 * Starts a line server from parsed flags: `Server up, running, ...` at info,
 * then the listening addresses, then serves until a signal.
 */
export async function runLineServer(
  values: { host?: string; port?: string; "max-line"?: string },
  context: CommandContext,
  name: string,
  app: LineApp,
): Promise<number> {
  const host = parseHost(values.host ?? "localhost");
  const port = parsePort(values.port ?? String(LINE_SERVER_PORT));
  const limit = parseSize(values["max-line"], "--max-line", DEFAULT_LIMIT);
  const options = { logger: context.logger.child(name), limit, signal: context.shutdown };
  const server = await startServer((reader, writer) => app(reader, writer, options), host, port, {
    limit,
    onError: connectionErrorLogger(context.logger, name),
  });
  context.logger.info(
    `Server up, running, and waiting for call on ${host} ${listeningPort(server)}`,
  );
  return serveUntilSignal(server, context);
}
