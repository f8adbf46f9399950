/**
 * An `asyncnet` server under attack: the built CLI as a child process on
 * 127.0.0.1 and port 0, its port read from its `listening on` line, its
 * memory and descriptors read from /proc, its stderr counted, its exit kept.
 *
 * Spawned through the benchmark's `spawnPinned`, so the benchmark's `killAll()`
 * ends it too.
 *
 * @module
 */

import { type ChildProcess, spawnSync } from "node:child_process";
import { readdirSync, readlinkSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HOST, readRssKb, spawnPinned } from "../../bench/lib/server.js";

/** The repository (this file is dist/faults/lib/server.js). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** The built CLI. */
export const CLI = path.join(ROOT, "dist", "src", "cli", "main.js");
export { HOST };

/** The servers the suite attacks. */
export type ServerApp = "calc-server" | "line-echo-server" | "echo-server";

/** How to start a {@link FaultServer}. */
export interface ServerStart {
  app: ServerApp;
  /** More flags for the server, after `--host 127.0.0.1 --port 0 --log-level info`. */
  args?: readonly string[];
  /** Start under `ulimit -n N` (a shell that then execs node, so the pid stays the server's). */
  fdLimit?: number;
  /** How long to wait for the `listening on` line. Default 10 s. */
  startMs?: number;
}

/** How the server process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** `performance.now()` when the exit was seen. */
  at: number;
}

/** Stderr lines kept whole for inspection; the rest are only counted. */
const KEEP_LINES = 2000;

/** Number of descriptors process `pid` holds, from /proc/PID/fd; NaN once it is gone. */
export function fdCountOf(pid: number | undefined): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

/**
 * Number of sockets process `pid` holds (its /proc/PID/fd links to `socket:[...]`);
 * NaN once it is gone. Files and pipes the runtime opens for a moment do not count.
 */
export function socketCountOf(pid: number | undefined): number {
  try {
    let sockets = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) sockets++;
      } catch {
        // Closed between the listing and the readlink: not held.
      }
    }
    return sockets;
  } catch {
    return Number.NaN;
  }
}

/** VmRSS of `pid` in KiB; NaN once it is gone. */
export function rssKbOf(pid: number | undefined): number {
  try {
    return readRssKb(pid);
  } catch {
    return Number.NaN;
  }
}

const helpCache = new Map<ServerApp, string>();

/** Whether the built `asyncnet APP` lists `flag` (for example `--line-timeout`) in its help. */
export function supportsFlag(app: ServerApp, flag: string): boolean {
  let help = helpCache.get(app);
  if (help === undefined) {
    const result = spawnSync(process.execPath, [CLI, app, "--help"], {
      encoding: "utf8",
      timeout: 10_000,
    });
    help = result.stdout ?? "";
    helpCache.set(app, help);
  }
  return new RegExp(`(^|\\s)${flag}(\\s|=|$)`, "m").test(help);
}

/** A running server child. Use {@link FaultServer.start}. */
export class FaultServer {
  readonly app: ServerApp;
  readonly child: ChildProcess;
  #port = 0;
  #exit: Exit | null = null;
  readonly exited: Promise<Exit>;
  #partial = "";
  readonly #kept: string[] = [];
  #lines = 0;
  #errors = 0;
  #tail = "";

  private constructor(options: ServerStart) {
    this.app = options.app;
    // Info, not warn: the port is read from the info-level `listening on` line, and
    // info adds only start, stop and per-connection timeout lines, all drained here.
    const args = [
      CLI,
      options.app,
      ...["--host", HOST, "--port", "0", "--log-level", "info"],
      ...(options.args ?? []),
    ];
    this.child =
      options.fdLimit === undefined
        ? spawnPinned(process.execPath, args, null)
        : spawnPinned(
            "sh",
            ["-c", `ulimit -n ${options.fdLimit} && exec "$0" "$@"`, process.execPath, ...args],
            null,
          );
    this.child.stdin?.end();
    this.child.stdout?.resume();
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (text: string) => this.#onStderr(text));
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.#exit = { code, signal, at: performance.now() };
        resolve(this.#exit);
      });
      this.child.once("error", () => {
        this.#exit ??= { code: null, signal: null, at: performance.now() };
        resolve(this.#exit);
      });
    });
  }

  /** Spawns the server and resolves once it logged its port. */
  static async start(options: ServerStart): Promise<FaultServer> {
    const server = new FaultServer(options);
    const ms = options.startMs ?? 10_000;
    const deadline = performance.now() + ms;
    while (server.#port === 0) {
      if (server.#exit !== null) {
        throw new Error(`${options.app} exited before listening: ${server.tail()}`);
      }
      if (performance.now() > deadline) {
        server.kill();
        throw new Error(`${options.app} did not log its port within ${ms} ms: ${server.tail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return server;
  }

  #onStderr(text: string): void {
    this.#tail = (this.#tail + text).slice(-4000);
    const lines = (this.#partial + text).split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) {
      this.#lines++;
      if (line.includes(" ERROR: ")) this.#errors++;
      if (this.#kept.length < KEEP_LINES) this.#kept.push(line);
      if (this.#port === 0) {
        const match = /^main: listening on 127\.0\.0\.1:(\d+)$/.exec(line);
        if (match !== null) this.#port = Number(match[1]);
      }
    }
  }

  /** The port it listens on. */
  get port(): number {
    return this.#port;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** How it ended, or null while it runs. */
  get exit(): Exit | null {
    return this.#exit;
  }

  get alive(): boolean {
    return this.#exit === null;
  }

  /** VmRSS in KiB (NaN once gone). */
  rssKb(): number {
    return rssKbOf(this.child.pid);
  }

  /** Open descriptors (NaN once gone). */
  fdCount(): number {
    return fdCountOf(this.child.pid);
  }

  /** Open sockets, listening ones included (NaN once gone). */
  socketCount(): number {
    return socketCountOf(this.child.pid);
  }

  /** Stderr lines so far (the first {@link KEEP_LINES} are kept). */
  get stderrLines(): readonly string[] {
    return this.#kept;
  }

  /** Number of stderr lines, and of those logged at error level (`NAME: ERROR: ...`). */
  get logCounts(): { lines: number; errors: number } {
    return { lines: this.#lines, errors: this.#errors };
  }

  /** The end of stderr, for error messages. */
  tail(): string {
    return this.#tail.trim().split("\n").slice(-6).join(" | ");
  }

  /** Sends `signal` if the process still runs. */
  signal(signal: NodeJS.Signals): void {
    if (this.#exit === null) this.child.kill(signal);
  }

  kill(): void {
    this.signal("SIGKILL");
  }

  /** SIGTERM, then SIGKILL after `ms`; resolves with the exit. */
  async stop(ms = 15_000): Promise<Exit> {
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.kill(), ms);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}
