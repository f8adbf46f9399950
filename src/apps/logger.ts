/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
/** `text`: the seeds' `NAME: MESSAGE` lines; `json`: one JSON object per line. */
export type LogFormat = "text" | "json";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** Checks a `--log-level` value. */
export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(RANK, value);
}

/**
 * A named logger, as the seeds' `logging.getLogger(name)`: `child('echo_::1_64624')`
 * names one connection so its story can be followed line by line.
 */
export class Logger {
  readonly name: string;
  readonly #level: number;
  readonly #format: LogFormat;
  readonly #write: (line: string) => void;
  readonly #worker: number | undefined;

  /**
   * `options.worker`: the worker slot of a multi-process server, written on
   * every line (text: a `[w1] ` prefix; json: a `worker` field). Default: none.
   */
  constructor(
    name: string,
    options: {
      level?: LogLevel;
      format?: LogFormat;
      write?: (line: string) => void;
      worker?: number;
    } = {},
  ) {
    this.name = name;
    this.#level = RANK[options.level ?? "info"];
    this.#format = options.format ?? "text";
    this.#write = options.write ?? ((line) => process.stderr.write(line));
    this.#worker = options.worker;
  }

  /** A logger with another name and the same level, format, sink and worker. */
  child(name: string): Logger {
    const level = (Object.keys(RANK) as LogLevel[]).find((l) => RANK[l] === this.#level);
    return new Logger(name, {
      level,
      format: this.#format,
      write: this.#write,
      worker: this.#worker,
    });
  }

  /** Whether messages at `level` are written; check it before building costly messages. */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#level;
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.#log("debug", message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.#log("info", message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.#log("warn", message, fields);
  }

  /** Logs an error; an Error's stack goes with it. */
  error(message: string, error?: unknown): void {
    const fields = error === undefined ? undefined : { error: errorText(error) };
    this.#log("error", message, fields);
  }

  #log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (RANK[level] < this.#level) return;
    if (this.#format === "json") {
      const record = {
        time: new Date().toISOString(),
        level,
        ...(this.#worker === undefined ? {} : { worker: this.#worker }),
        name: this.name,
        msg: message,
        ...fields,
      };
      this.#write(`${JSON.stringify(record)}\n`);
      return;
    }
    const prefix = level === "debug" || level === "info" ? "" : `${level.toUpperCase()}: `;
    const worker = this.#worker === undefined ? "" : `[w${this.#worker}] `;
    let line = `${worker}${this.name}: ${prefix}${message}`;
    if (fields !== undefined) {
      for (const [key, value] of Object.entries(fields)) {
        line +=
          key === "error"
            ? `\n${value}`
            : ` ${key}=${typeof value === "string" ? value : JSON.stringify(value)}`;
      }
    }
    this.#write(`${line}\n`);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? String(error)) : String(error);
}
