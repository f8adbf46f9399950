import { DEFAULT_READ_SIZE, echo } from "../../apps/echo.js";
import { echoOnce, ONCE_READ_SIZE } from "../../apps/echo-once.js";
import { EchoServerProtocol } from "../../apps/echo-protocol.js";
import { echoUntil } from "../../apps/echo-until.js";
import { createServer } from "../../protocols/create-server.js";
import type { Server } from "../../protocols/server.js";
import { startServer } from "../../streams/start-server.js";
import { DEFAULT_LIMIT, type StreamReader } from "../../streams/stream-reader.js";
import type { StreamWriter } from "../../streams/stream-writer.js";
import {
  COMMON_HELP,
  parseChoice,
  parseCommandArgs,
  parseHost,
  parsePort,
  parseSize,
  SERVER_NOTES,
  serverFlagsHelp,
} from "../args.js";
import { type Command, type CommandContext, UsageError } from "../command.js";
import { serveWithMetrics } from "../metrics-endpoint.js";
import { METRICS_HELP, METRICS_OPTIONS, parseMetricsAddress } from "../metrics-flags.js";
import { connectionErrorLogger, listeningPort } from "../serve.js";
import {
  limitServerOptions,
  parseServerLimits,
  SERVER_LIMIT_OPTIONS,
  SERVER_LIMITS_HELP,
} from "../server-limits.js";
import { PROXY_FLAG_OPTIONS, PROXY_FLAGS_HELP, proxyServerOptions } from "../proxy-flags.js";
import { WORKER_OPTIONS, WORKERS_HELP } from "../worker-flags.js";
import {
  logTlsConnection,
  parseTlsServerFlags,
  TLS_SERVER_HELP,
  TLS_SERVER_OPTIONS,
  tlsServerSetup,
} from "../tls-flags.js";

const OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  style: { type: "string" },
  prefix: { type: "string" },
  once: { type: "boolean" },
  until: { type: "string" },
  "fail-on": { type: "string" },
  "max-line": { type: "string" },
  "read-size": { type: "string" },
  ...SERVER_LIMIT_OPTIONS,
  ...METRICS_OPTIONS,
  ...PROXY_FLAG_OPTIONS,
  ...WORKER_OPTIONS,
  ...TLS_SERVER_OPTIONS,
} as const;

const HELP = `Usage: asyncnet echo-server [options]

The echo server of seeds 000, 001 and 003: every byte received is sent back,
and the connection is closed after the client's EOF.

Options:
${serverFlagsHelp("localhost", 10000)}
                      (with --once: 127.0.0.1 and 8888, as the official example)
  --style STYLE       streams (seed 000, default) or protocol (seed 003: a
                      Protocol that answers the client's EOF with its own EOF)
  --prefix TEXT       answer each chunk with TEXT + chunk (seed 000 'Got: ',
                      seed 001 'You Got ')
  --once              read once (up to --read-size, default 100 bytes), answer,
                      close (the official example); streams style only
  --until WORD        buffer until the data ends with WORD + '\\n' (seed 001:
                      quit) or EOF, then send it all back and close; a buffer
                      over --max-line bytes gets
                      'ERROR. Message too long (more than N bytes)\\r\\n' and is
                      closed; streams style only
  --fail-on TEXT      throw in the handler on a chunk equal to TEXT, TEXT\\n or
                      TEXT\\r\\n (seed 001: boom): the error is logged with its
                      stack and only that connection is closed
  --max-line BYTES    the --until buffer limit, and the reader's limit
                      (default ${DEFAULT_LIMIT})
  --read-size BYTES   most bytes taken by one read (default ${DEFAULT_READ_SIZE};
                      the seed reads 128)
${SERVER_LIMITS_HELP}
${METRICS_HELP}
${PROXY_FLAGS_HELP}
${WORKERS_HELP}
${TLS_SERVER_HELP}

The echo has no lines to time, so --idle-timeout is its only timeout: a client
that trickles bytes keeps its connection, each byte answered (--max-per-peer
bounds how many one address holds). A client that sends without reading
stalls its own connection, not the server's memory.

With --log-level debug each connection logs as the seeds: echo_HOST_PORT
(streams) or EchoServer_HOST_PORT (protocol): connection accepted,
received b'...', sent b'...', received EOF (protocol), closing.

${SERVER_NOTES}

${COMMON_HELP}`;

/** `--fail-on TEXT` matches the chunk a terminal sends for TEXT: bare, `\n` or `\r\n` ended. */
function failChunks(text: string): Buffer[] {
  return [text, `${text}\n`, `${text}\r\n`].map((s) => Buffer.from(s, "utf8"));
}

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values } = parseCommandArgs({ args, options: OPTIONS });
  const style = parseChoice(values.style ?? "streams", ["streams", "protocol"], "--style");
  const once = values.once === true;
  if (once && values.until !== undefined) {
    throw new UsageError("--once and --until cannot be used together");
  }
  if (style === "protocol" && (once || values.until !== undefined)) {
    throw new UsageError("--once and --until need --style streams");
  }
  const host = parseHost(values.host ?? (once ? "127.0.0.1" : "localhost"));
  const port = parsePort(values.port ?? (once ? "8888" : "10000"));
  const limit = parseSize(values["max-line"], "--max-line", DEFAULT_LIMIT);
  const readSize = parseSize(
    values["read-size"],
    "--read-size",
    once ? ONCE_READ_SIZE : DEFAULT_READ_SIZE,
  );
  const prefix = values.prefix === undefined ? undefined : Buffer.from(values.prefix, "utf8");
  const failOn = values["fail-on"] === undefined ? undefined : failChunks(values["fail-on"]);
  const { logger } = context;
  const limits = parseServerLimits(values);
  const tlsConfig = parseTlsServerFlags(values);
  const { options: limitOptions, drops } = limitServerOptions(limits, logger);
  const metrics = parseMetricsAddress(values.metrics);
  const proxyOptions = proxyServerOptions(values, logger);
  const prefixName = style === "protocol" ? "EchoServer" : "echo";
  const tls = tlsConfig && tlsServerSetup(tlsConfig, logger, prefixName);

  let server: Server;
  if (style === "protocol") {
    const options = { logger, prefix, failOn };
    const factory =
      tls === undefined
        ? () => new EchoServerProtocol(options)
        : () => {
            const protocol = new EchoServerProtocol(options);
            const connectionMade = protocol.connectionMade.bind(protocol);
            protocol.connectionMade = (transport) => {
              logTlsConnection(logger, prefixName, transport);
              connectionMade(transport);
            };
            return protocol;
          };
    server = await createServer(factory, host, port, {
      ...limitOptions,
      ...proxyOptions,
      ...tls?.options,
      onError: connectionErrorLogger(logger, "EchoServer"),
    });
  } else {
    const app = once ? echoOnce : values.until !== undefined ? echoUntil : echo;
    const options = {
      logger,
      limit,
      readSize,
      prefix,
      failOn,
      until: values.until,
    };
    const handler =
      tls === undefined
        ? (reader: StreamReader, writer: StreamWriter) => app(reader, writer, options)
        : (reader: StreamReader, writer: StreamWriter) => {
            logTlsConnection(logger, prefixName, writer.transport);
            return app(reader, writer, options);
          };
    server = await startServer(handler, host, port, {
      ...limitOptions,
      ...proxyOptions,
      ...tls?.options,
      limit,
      onError: connectionErrorLogger(logger, "echo"),
    });
  }
  logger.debug(`starting up on ${host} port ${listeningPort(server)}`);
  // No shutdown signal for the apps: server.shutdown() ends a streams handler
  // through its reader's EOF once the input is quiet; the Protocol is closed.
  const served = server;
  return serveWithMetrics(server, metrics, context, {
    grace: limits.grace,
    drops,
    refusals: tls?.refusals,
    onReload: tls && (() => tls.onReload(served)),
  });
}

/** `asyncnet echo-server`. */
export const command: Command = {
  name: "echo-server",
  summary: "echo server (seeds 000/001/003): streams or protocol style, prefix, once, until",
  help: HELP,
  run,
};
