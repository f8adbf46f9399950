#!/usr/bin/env node

/**
 * `asyncnet`: every program of the seed tutorials as a subcommand. This file
 * only parses the common flags, wires process signals and picks the command.
 *
 * @module
 */

import cluster from "node:cluster";
import { setMaxListeners } from "node:events";
import { readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isLogLevel, type LogFormat, Logger, type LogLevel } from "../apps/logger.js";
import { AbortError } from "../errors.js";
import { type Command, type CommandContext, UsageError } from "./command.js";
import { command as calcServer } from "./commands/calc-server.js";
import { command as echoClient } from "./commands/echo-client.js";
import { command as echoServer } from "./commands/echo-server.js";
import { command as httpHead } from "./commands/http-head.js";
import { command as lineEchoServer } from "./commands/line-echo-server.js";
import { command as wget } from "./commands/wget.js";
import { checkFailStart, runPrimary, workerCount } from "./worker-flags.js";
import { farewell, workerSlot, workerStopSignals } from "../workers/worker-side.js";

/** Every subcommand, in the order `asyncnet --help` lists them. */
export const COMMANDS: readonly Command[] = [
  echoServer,
  echoClient,
  lineEchoServer,
  calcServer,
  httpHead,
  wget,
];

/** The common flags, taken out of the arguments before a command sees them. */
interface CommonFlags {
  rest: string[];
  logLevel: string;
  logFormat: string;
  help: boolean;
  version: boolean;
}

/** Takes the common flags out of `args` (up to a `--`, which is kept for the command). */
export function splitCommonFlags(args: readonly string[]): CommonFlags {
  const flags: CommonFlags = {
    rest: [],
    logLevel: "info",
    logFormat: "text",
    help: false,
    version: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") {
      flags.rest.push(...args.slice(i));
      break;
    }
    const [name, inline] =
      arg.startsWith("--") && arg.includes("=") ? splitOnce(arg) : [arg, undefined];
    if (name === "--help" || name === "-h") flags.help = true;
    else if (name === "--version") flags.version = true;
    else if (name === "--log-level" || name === "--log-format") {
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`Option '${name} <value>' argument missing`);
      if (name === "--log-level") flags.logLevel = value;
      else flags.logFormat = value;
    } else flags.rest.push(arg);
  }
  return flags;
}

function splitOnce(arg: string): [string, string] {
  const at = arg.indexOf("=");
  return [arg.slice(0, at), arg.slice(at + 1)];
}

/** The package's version, from the package.json above this file. */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "asyncnet" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // No package.json here: look further up.
    }
    const parent = dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
}

/** `asyncnet --help`. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`);
  return `Usage: asyncnet <command> [options]

asyncio-style TCP servers and clients: the programs of the seed tutorials,
written on asyncnet's own streams and protocol APIs.

Commands:
${lines.join("\n")}

Run 'asyncnet <command> --help' for a command's options and defaults.

Common options (every command):
  --log-level LEVEL   debug, info, warn, error or silent (default info);
                      debug shows each connection's story, as the seeds log it
  --log-format FMT    text (NAME: MESSAGE, as the seeds) or json (one object a line)
  -h, --help          show help
  --version           print the version

Logs go to stderr, data to stdout. Servers log 'listening on HOST:PORT'
(IPv6: '[HOST]:PORT') at info level for each address, with the real port.
Exit codes: 0 done, 1 failed, 2 usage error, 130 aborted by a second signal.
`;
}

/** The process around a command. */
export interface MainIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stderrIsTTY: boolean;
  shutdown: AbortSignal;
  abort: AbortSignal;
}

/** Runs `asyncnet` with `args` (without `node` and the script); resolves with the exit code. */
export async function main(args: readonly string[], io: MainIO): Promise<number> {
  const usage = (message: string, command?: Command) => {
    const name = command === undefined ? "asyncnet" : `asyncnet ${command.name}`;
    io.stderr.write(`${name}: ${message}\nTry '${name} --help'.\n`);
    return 2;
  };
  let flags: CommonFlags;
  try {
    flags = splitCommonFlags(args);
  } catch (error) {
    return usage((error as Error).message);
  }
  if (flags.version) {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const [name, ...rest] = flags.rest;
  if (name === undefined || name === "--") {
    if (flags.help) {
      io.stdout.write(mainHelp());
      return 0;
    }
    io.stderr.write(mainHelp());
    return 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    return usage(name.startsWith("-") ? `unknown option '${name}'` : `unknown command '${name}'`);
  }
  if (flags.help) {
    io.stdout.write(`${command.help.trimEnd()}\n`);
    return 0;
  }
  if (!isLogLevel(flags.logLevel)) {
    return usage(
      `Invalid --log-level: expected debug, info, warn, error or silent, got '${flags.logLevel}'`,
      command,
    );
  }
  if (flags.logFormat !== "text" && flags.logFormat !== "json") {
    return usage(`Invalid --log-format: expected text or json, got '${flags.logFormat}'`, command);
  }
  const logger = new Logger("main", {
    level: flags.logLevel as LogLevel,
    format: flags.logFormat as LogFormat,
    write: (line) => io.stderr.write(line),
    worker: workerSlot(),
  });
  const context: CommandContext = { ...io, logger };
  try {
    const workers = workerCount(command.name, rest);
    if (workers > 1 && cluster.isPrimary) return await runPrimary(workers, rest, logger);
    if (workerSlot() !== undefined) checkFailStart();
    return await command.run(rest, context);
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message, command);
    logger.error(error instanceof Error ? error.message : String(error));
    if (logger.enabled("debug") && error instanceof Error) logger.debug(error.stack ?? "");
    return 1;
  }
}

/**
 * Wires SIGINT/SIGTERM: the first aborts `shutdown` (graceful stop), the
 * second `abort` (stop at once).
 */
function wireSignals(): { shutdown: AbortSignal; abort: AbortSignal; dispose: () => void } {
  const shutdown = new AbortController();
  const abort = new AbortController();
  // Every connection waiting on a read listens on these: no leak warning for many connections.
  setMaxListeners(0, shutdown.signal, abort.signal);
  const onSignal = (signal: NodeJS.Signals) => {
    const reason = new AbortError(`Stopped by ${signal}`);
    if (!shutdown.signal.aborted) shutdown.abort(reason);
    else abort.abort(reason);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const dispose = () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  return { shutdown: shutdown.signal, abort: abort.signal, dispose };
}

/** Whether this module is the program (not imported by a test): npm's bin link resolved. */
function isProgram(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isProgram()) {
  // A worker of --workers N stops when its primary says so (see worker-side.ts).
  const signals = workerSlot() === undefined ? wireSignals() : workerStopSignals();
  const code = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stderrIsTTY: process.stderr.isTTY === true,
    shutdown: signals.shutdown,
    abort: signals.abort,
  });
  // A worker waits for its primary's answer first: see farewell().
  await farewell();
  signals.dispose();
  // Leave once stdout is flushed, even if a stray handle would keep the loop alive.
  process.stdout.write("", () => process.exit(code));
}
