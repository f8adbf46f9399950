import type { Logger } from "../apps/logger.js";

/** What a subcommand gets from the process: its streams and a logger configured by the common flags. */
export interface CommandContext {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Whether stderr is a terminal (for progress bars). */
  stderrIsTTY: boolean;
  /** The root logger, named `main`, with `--log-level` and `--log-format` applied. */
  logger: Logger;
  /** Aborted on the first SIGINT/SIGTERM: start a graceful stop. */
  shutdown: AbortSignal;
  /** Aborted on the second signal: stop at once. */
  abort: AbortSignal;
}

/** One `asyncnet` subcommand. */
export interface Command {
  /** The subcommand's name, as typed: `echo-server`. */
  name: string;
  /** One line for `asyncnet --help`. */
  summary: string;
  /** The full `--help` text of the subcommand (usage, flags with defaults). */
  help: string;
  /**
   * Runs with the arguments after the subcommand's name (common flags
   * `--log-level`, `--log-format`, `--help`, `--version` already removed).
   * Resolves with the exit code. Throws a `UsageError` for bad arguments.
   */
  run(args: string[], context: CommandContext): Promise<number>;
}

/** Bad command-line arguments: printed with the usage hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly code = "ERR_USAGE";
}
