/**
 * Argument parsing shared by the subcommands: node:util's parseArgs with its
 * errors turned into UsageErrors, and checkers for ports, sizes and choices.
 *
 * @module
 */

import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "./command.js";

/**
 * `parseArgs` in strict mode; a bad flag (unknown, missing value, value given
 * to a boolean, unexpected positional) becomes a {@link UsageError}.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ strict: true, ...config });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** Parses a TCP port: decimal digits, 0..65535 (0 lets the system choose). */
export function parsePort(text: string, flag = "--port"): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new UsageError(`Invalid ${flag}: expected an integer in 0..65535, got '${text}'`);
  }
  return port;
}

/** The largest size flag accepted: 1 GiB. */
export const MAX_SIZE = 2 ** 30;

/** Parses a positive size in bytes (or a count): decimal digits, 1..2^30. */
export function parseSize(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const size = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(size >= 1 && size <= MAX_SIZE)) {
    throw new UsageError(`Invalid ${flag}: expected an integer in 1..${MAX_SIZE}, got '${text}'`);
  }
  return size;
}

/** Parses an optional count: `undefined` (no limit) when not given, else as {@link parseSize}. */
export function parseLimit(text: string | undefined, flag: string): number | undefined {
  return text === undefined ? undefined : parseSize(text, flag, 0);
}

/** The longest duration flag accepted, in seconds: Node's timers stop at 2^31 - 1 ms (24.8 days). */
export const MAX_SECONDS = 2_147_483;

/**
 * Parses a duration in seconds (`30`, `0.5`, `.25`) into milliseconds,
 * rounded, at least 1 ms unless the text is 0; `fallback` (seconds) when not
 * given. Negative, signed or exponent forms are refused.
 */
export function parseSeconds(text: string | undefined, flag: string, fallback: number): number {
  const seconds =
    text === undefined ? fallback : /^(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds >= 0 && seconds <= MAX_SECONDS)) {
    throw new UsageError(`Invalid ${flag}: expected seconds in 0..${MAX_SECONDS}, got '${text}'`);
  }
  return seconds === 0 ? 0 : Math.max(1, Math.round(seconds * 1000));
}

/** Checks that `value` is one of `choices`. */
export function parseChoice<C extends string>(
  value: string,
  choices: readonly C[],
  flag: string,
): C {
  if ((choices as readonly string[]).includes(value)) return value as C;
  throw new UsageError(`Invalid ${flag}: expected ${choices.join(" or ")}, got '${value}'`);
}

/** Checks a host name or address given to `--host`. */
export function parseHost(text: string): string {
  if (text === "" || /\s/.test(text)) {
    throw new UsageError(`Invalid --host: expected a host name or address, got '${text}'`);
  }
  return text;
}

/** The `--help` lines every server shares; `defaults` fills in the address. */
export function serverFlagsHelp(host: string, port: number): string {
  return [
    `  --host HOST         address or name to listen on (default ${host}); a name`,
    "                      listens on every address it resolves to (localhost: 127.0.0.1 and ::1)",
    `  --port PORT         TCP port (default ${port}); 0 picks a free one`,
  ].join("\n");
}

/** The part of every server's `--help` about its start line, signals and exit codes. */
export const SERVER_NOTES = `On start the server logs, at info level, one line per listening address:
  main: listening on 127.0.0.1:PORT
  main: listening on [::1]:PORT
with the real port (IPv6 addresses in brackets), so --port 0 can be used.
SIGINT (Ctrl-C) or SIGTERM: stop accepting, close idle connections, and keep
answering each busy one until its client has been quiet for 0.25 s (or sent
EOF), for at most --grace seconds, then abort what is left (logged with their
count); exit 0, also when the grace period ran out. A second signal closes every connection at once and exits 130.`;

/** The common flags, for every command's `--help`. */
export const COMMON_HELP = `Common options:
  --log-level LEVEL   debug, info, warn, error or silent (default info);
                      debug shows each connection's story, as the seeds log it
  --log-format FMT    text (NAME: MESSAGE, as the seeds) or json (one object a line)
  -h, --help          show this help
  --version           print the version
Logs go to stderr, data to stdout.`;
