import {
  echoClient,
  echoClientOnce,
  SEED_MESSAGES,
  SEED_ONCE_MESSAGE,
} from "../../apps/echo-client.js";
import { echoClientProtocol } from "../../apps/echo-client-protocol.js";
import { COMMON_HELP, parseChoice, parseCommandArgs, parseHost, parsePort } from "../args.js";
import { type Command, type CommandContext, UsageError } from "../command.js";
import { EXIT_ABORTED } from "../serve.js";
import { isCertificateError } from "../../apps/http-errors.js";
import { parseTlsClientFlags, TLS_CLIENT_HELP, TLS_CLIENT_OPTIONS } from "../tls-flags.js";

/** Exit code when the server's certificate failed verification (wget's and http-head's). */
export const EXIT_CERTIFICATE = 5;

const OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  style: { type: "string" },
  once: { type: "boolean" },
  ...TLS_CLIENT_OPTIONS,
} as const;

const HELP = `Usage: asyncnet echo-client [options] [MESSAGE...]

The echo client of seeds 000 and 003: sends each MESSAGE as a separate write
(default: ${SEED_MESSAGES.map((m) => `'${m}'`).join(", ")}),
half-closes, writes every byte received to stdout until the server's EOF, and
exits 0. Put '--' before messages that start with '-'.

Options:
  --host HOST         server to connect to (default localhost; 127.0.0.1 with --once)
  --port PORT         server port (default 10000; 8888 with --once)
  --style STYLE       streams (seed 000, default) or protocol (seed 003: a
                      Protocol whose completion is settled by EOF or connection loss)
  --once              the official one-shot client: send one MESSAGE (default
                      '${SEED_ONCE_MESSAGE}'), read one reply (up to 100 bytes) and
                      print Send: '...', Received: '...', Close the socket
${TLS_CLIENT_HELP}

TLS cannot half-close: over TLS the client sends its messages and reads until
the server closes, without sending EOF first (pair it with echo-server --once,
--until WORD, or --idle-timeout).

With --log-level debug it logs as the seeds: echo_client (streams) or
EchoClient (protocol): connecting to HOST port PORT, sending b'...',
received b'...', received EOF, closing.

Exit codes: 0 done, 1 connection failed, 2 usage error, 5 the server's
certificate failed verification, 130 interrupted.

${COMMON_HELP}`;

async function run(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    options: OPTIONS,
    allowPositionals: true,
  });
  const style = parseChoice(values.style ?? "streams", ["streams", "protocol"], "--style");
  const once = values.once === true;
  if (once && style === "protocol") throw new UsageError("--once needs --style streams");
  if (once && positionals.length > 1) {
    throw new UsageError("--once sends one message: quote it to include spaces");
  }
  const host = parseHost(values.host ?? (once ? "127.0.0.1" : "localhost"));
  const port = parsePort(values.port ?? (once ? "8888" : "10000"));
  const tls = await parseTlsClientFlags(values);
  const common = {
    logger: context.logger,
    output: context.stdout,
    signal: context.shutdown,
    ...(tls === undefined ? {} : { connection: { tls } }),
  };
  const messages = positionals.length > 0 ? positionals : undefined;
  try {
    if (once) await echoClientOnce(host, port, { ...common, message: positionals[0] });
    else if (style === "protocol") await echoClientProtocol(host, port, { ...common, messages });
    else await echoClient(host, port, { ...common, messages });
  } catch (error) {
    if (isCertificateError(error)) {
      context.logger.error(
        `certificate verification failed: ${(error as Error).message}; ` +
          "trust its issuer with --ca-certificate FILE, or skip the check with --insecure",
      );
      return EXIT_CERTIFICATE;
    }
    if (!context.shutdown.aborted) throw error;
    context.logger.warn("interrupted");
    return EXIT_ABORTED;
  }
  return 0;
}

/** `asyncnet echo-client`. */
export const command: Command = {
  name: "echo-client",
  summary: "echo client (seeds 000/003): sends messages, prints the echo; --once for the one-shot",
  help: HELP,
  run,
};
