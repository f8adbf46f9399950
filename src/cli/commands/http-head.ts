import { readFile } from "node:fs/promises";
import type { ParseArgsConfig } from "node:util";
import { httpHead } from "../../apps/http-head.js";
import { parseHttpUrl } from "../../framing/http-head.js";
import { parseCommandArgs } from "../args.js";
import { type Command, type CommandContext, UsageError } from "../command.js";

/** The flags http-head and wget share: timeout and certificate checks. */
export const httpClientFlags = {
  timeout: { type: "string", short: "T" },
  insecure: { type: "boolean" },
  "no-check-certificate": { type: "boolean" },
  "ca-certificate": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

/** Help lines of {@link httpClientFlags}. */
export const httpClientHelp = `  -T, --timeout SECONDS    connect timeout, and the longest wait for each read
                           (0: none; default 900, as GNU wget)
  --ca-certificate FILE    also trust the CA certificates (PEM) in FILE
  --insecure, --no-check-certificate
                           do not verify the server's certificate`;

/** The default `-T`: GNU wget's read timeout, 900 s. */
const DEFAULT_TIMEOUT_S = 900;
// setTimeout's limit (2^31 - 1 ms), in whole seconds.
const MAX_TIMEOUT_S = 2_147_483;

/** The one URL among `positionals`, checked to be http(s). */
export function takeUrl(positionals: string[]): string {
  const [url, ...extra] = positionals;
  if (url === undefined) throw new UsageError("Missing URL");
  if (extra.length > 0) throw new UsageError(`Too many arguments: ${extra.join(" ")}`);
  try {
    parseHttpUrl(url);
  } catch (error) {
    throw new UsageError(`Invalid URL ${url}: ${(error as Error).message}`);
  }
  return url;
}

/** Turns the values of {@link httpClientFlags} into exchange options (reads the CA file). */
export async function httpClientOptions(values: {
  timeout?: string;
  insecure?: boolean;
  "no-check-certificate"?: boolean;
  "ca-certificate"?: string;
}): Promise<{ timeout: number; insecure: boolean; ca?: string }> {
  let seconds = DEFAULT_TIMEOUT_S;
  if (values.timeout !== undefined) {
    seconds = values.timeout.trim() === "" ? Number.NaN : Number(values.timeout);
    if (!(seconds >= 0 && seconds <= MAX_TIMEOUT_S)) {
      throw new UsageError(
        `Invalid --timeout: expected seconds from 0 to ${MAX_TIMEOUT_S}, got ${values.timeout}`,
      );
    }
  }
  const insecure = values.insecure === true || values["no-check-certificate"] === true;
  const file = values["ca-certificate"];
  if (file === undefined) return { timeout: Math.ceil(seconds * 1000), insecure };
  let ca: string;
  try {
    ca = await readFile(file, "latin1");
  } catch (error) {
    throw new UsageError(`Cannot read --ca-certificate ${file}: ${(error as Error).message}`);
  }
  if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
    throw new UsageError(`Invalid --ca-certificate ${file}: no PEM certificate in it`);
  }
  return { timeout: Math.ceil(seconds * 1000), insecure, ca };
}

/** `asyncnet http-head URL`: seed 000's HTTP header printer. */
export const command: Command = {
  name: "http-head",
  summary: "Send HEAD URL HTTP/1.0 and print each response header line (seed 000)",
  help: `Usage: asyncnet http-head [options] URL

Sends "HEAD PATH HTTP/1.0\\r\\nHost: HOST\\r\\n\\r\\n" to URL (http, or https
with TLS; a port, an IPv6 literal such as http://[::1]:8080/ and a query are
allowed) and prints "HTTP header> " and each non-empty line of the response
head, trailing whitespace stripped, to stdout; interim 1xx heads before it
are printed too, as the seed prints every line. The connection is closed at
once after the head.

Options:
${httpClientHelp}

Exit status (GNU wget's): 0 printed, whatever the HTTP status; 2 bad
arguments; 4 network failure (refused, reset, timeout); 5 certificate
verification failed; 7 the reply is not HTTP; 1 other errors.`,

  async run(args: string[], context: CommandContext): Promise<number> {
    const { values, positionals } = parseCommandArgs({
      args,
      options: httpClientFlags,
      allowPositionals: true,
    });
    const url = takeUrl(positionals);
    return httpHead({
      url,
      ...(await httpClientOptions(values)),
      stdout: context.stdout,
      stderr: context.stderr,
      logger: context.logger,
      signal: context.shutdown,
    });
  },
};
