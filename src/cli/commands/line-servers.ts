/**
 * What the two line servers of seed 002 share: their flags and their start.
 *
 * @module
 */

import type { LineAppOptions } from "../../apps/line-app.js";
import { type ConnectionHandler, startServer } from "../../streams/start-server.js";
import type { StreamReader } from "../../streams/stream-reader.js";
import { DEFAULT_LIMIT } from "../../streams/stream-reader.js";
import type { StreamWriter } from "../../streams/stream-writer.js";
import {
  parseHost,
  parsePort,
  parseSeconds,
  parseSize,
  SERVER_NOTES,
  serverFlagsHelp,
} from "../args.js";
import type { CommandContext } from "../command.js";
import { serveWithMetrics } from "../metrics-endpoint.js";
import { METRICS_HELP, METRICS_OPTIONS, parseMetricsAddress } from "../metrics-flags.js";
import { connectionErrorLogger, listeningPort } from "../serve.js";
import {
  limitServerOptions,
  parseServerLimits,
  SERVER_LIMIT_OPTIONS,
  SERVER_LIMITS_HELP,
} from "../server-limits.js";
import {
  PROXY_FLAG_OPTIONS,
  PROXY_FLAGS_HELP,
  type ProxyFlagValues,
  proxyServerOptions,
} from "../proxy-flags.js";
import {
  logTlsConnection,
  parseTlsServerFlags,
  TLS_SERVER_HELP,
  TLS_SERVER_OPTIONS,
  tlsServerSetup,
} from "../tls-flags.js";
import { WORKER_OPTIONS, WORKERS_HELP } from "../worker-flags.js";

/** The flags of both line servers. */
export const LINE_SERVER_OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  "max-line": { type: "string" },
  "line-timeout": { type: "string" },
  ...SERVER_LIMIT_OPTIONS,
  ...METRICS_OPTIONS,
  ...PROXY_FLAG_OPTIONS,
  ...WORKER_OPTIONS,
  ...TLS_SERVER_OPTIONS,
} as const;

/** The seed's port for both line servers. */
export const LINE_SERVER_PORT = 8080;

/** The line servers' `--line-timeout`: 30 s. */
export const DEFAULT_LINE_TIMEOUT_SECONDS = 30;

/** The `--help` lines both line servers share. */
export const LINE_SERVER_HELP = `${serverFlagsHelp("localhost", LINE_SERVER_PORT)}
  --max-line BYTES    longest line answered, without its \\n (default ${DEFAULT_LIMIT});
                      a longer line gets 'ERROR. Line too long (more than N bytes)\\r\\n',
                      the rest of it is discarded and the connection stays open
  --line-timeout SECS once a line has begun, it must end within SECS seconds or
                      the connection gets 'ERROR. Line not completed within SECS s\\r\\n'
                      and is closed, logged at info level (default
                      ${DEFAULT_LINE_TIMEOUT_SECONDS}; 0: never): a client trickling bytes cannot hold a
                      connection. The close comes between SECS and
                      SECS + max(SECS/10, 0.05) seconds after the line's first byte
${SERVER_LIMITS_HELP}
${METRICS_HELP}
${PROXY_FLAGS_HELP}
${WORKERS_HELP}
${TLS_SERVER_HELP}`;

/** The notes both line servers' `--help` end with. */
export const LINE_SERVER_NOTES = `A line is what comes before \\n; trailing whitespace is stripped (as Python's
rstrip(), so telnet's \\r goes). A client that sends EOF without quit gets its
last line answered and the connection closed. Clients are served concurrently
(--max-sessions 1 serves one at a time, as the seed did). A client that sends
without reading stalls its own connection, not the server's memory.

On start it logs 'Server up, running, and waiting for call on HOST PORT' (as
the seed prints it). With --log-level debug each connection logs, as the seed
prints: Received connection from ('HOST', PORT), ('HOST', PORT) --> LINE,
('HOST', PORT) quit.

${SERVER_NOTES}`;

/** The options a line server's app gets: the flags' and the app's own `extra`. */
export type LineServerAppOptions<E> = LineAppOptions & { limit: number } & E;

/** The app of a line server: its `startServer` handler for the server's options. */
export type LineApp<E> = (options: LineServerAppOptions<E>) => ConnectionHandler;

/** The parsed values of {@link LINE_SERVER_OPTIONS}. */
export type LineServerValues = {
  [
    K in Exclude<keyof typeof LINE_SERVER_OPTIONS, keyof typeof PROXY_FLAG_OPTIONS>
  ]?: (typeof LINE_SERVER_OPTIONS)[K]["type"] extends "boolean" ? boolean : string;
} & ProxyFlagValues;

/**
 * Starts a line server from parsed flags: `Server up, running, ...` at info,
 * then the listening addresses, then serves until a signal. Each connection
 * runs `app` with the flags' options and `extra`.
 */
export async function runLineServer<E extends object>(
  values: LineServerValues,
  context: CommandContext,
  name: string,
  app: LineApp<E>,
  extra: E,
): Promise<number> {
  const host = parseHost(values.host ?? "localhost");
  const port = parsePort(values.port ?? String(LINE_SERVER_PORT));
  const limit = parseSize(values["max-line"], "--max-line", DEFAULT_LIMIT);
  const lineTimeout = parseSeconds(
    values["line-timeout"],
    "--line-timeout",
    DEFAULT_LINE_TIMEOUT_SECONDS,
  );
  const limits = parseServerLimits(values);
  const metrics = parseMetricsAddress(values.metrics);
  const tlsConfig = parseTlsServerFlags(values);
  const { options: limitOptions, drops } = limitServerOptions(limits, context.logger);
  const tls = tlsConfig && tlsServerSetup(tlsConfig, context.logger, name);
  // One options object for every connection. No shutdown signal: on a stop the
  // loop answers until its input is quiet, then sees EOF (server.shutdown()).
  const options: LineServerAppOptions<E> = {
    ...extra,
    logger: context.logger.child(name),
    limit,
    lineTimeout,
  };
  // The app's own handler as it is, so that startServer can serve it without a
  // promise per connection; over TLS each connection is logged first.
  const appHandler = app(options);
  const handler =
    tls === undefined
      ? appHandler
      : (reader: StreamReader, writer: StreamWriter) => {
          logTlsConnection(context.logger, name, writer.transport);
          return appHandler(reader, writer);
        };
  const server = await startServer(handler, host, port, {
    ...limitOptions,
    ...proxyServerOptions(values, context.logger),
    ...tls?.options,
    limit,
    onError: connectionErrorLogger(context.logger, name),
  });
  context.logger.info(
    `Server up, running, and waiting for call on ${host} ${listeningPort(server)}`,
  );
  return serveWithMetrics(server, metrics, context, {
    grace: limits.grace,
    drops,
    refusals: tls?.refusals,
    onReload: tls && (() => tls.onReload(server)),
  });
}
