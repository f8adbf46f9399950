import assert from "node:assert/strict";
/**
 * Helpers for tests that spawn the built `asyncnet` and talk to it over raw
 * sockets. Every wait is bounded; every child is killed by `killAll()`.
 */

import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { runtimeArgs, testRuntime } from "../helpers/runtime.js";

/** The built CLI: dist/src/cli/main.js (this file is dist/test/cli/cli-helpers.js). */
export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

/** Default bound of every wait, in ms. */
export const TIMEOUT = 10_000;

/** Rejects after `ms` with a message naming what was awaited. */
export function withTimeout<T>(promise: Promise<T>, what: string, ms = TIMEOUT): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A running `asyncnet` child with its output collected. */
export interface Spawned {
  child: ChildProcess;
  stdout(): Buffer;
  stderr(): string;
  /** Resolves when the child exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();

/** Spawns `dist/src/cli/main.js ...args` with the runtime under test (see `testRuntime`). */
export function spawnCli(args: readonly string[]): Spawned {
  const child = spawn(testRuntime().command, runtimeArgs(CLI, args), {
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.add(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return {
    child,
    stdout: () => Buffer.concat(out),
    stderr: () => Buffer.concat(err).toString("utf8"),
    exited,
  };
}

/** Kills every child still running (for `after`). */
export function killAll(): void {
  for (const child of children) child.kill("SIGKILL");
}

/** The result of a finished run. */
export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `asyncnet ...args` to completion (stdin closed at once). */
export async function runCli(args: readonly string[], ms = TIMEOUT): Promise<RunResult> {
  const spawned = spawnCli(args);
  spawned.child.stdin?.end();
  try {
    const { code } = await withTimeout(spawned.exited, `asyncnet ${args.join(" ")}`, ms);
    return { code, stdout: spawned.stdout(), stderr: spawned.stderr() };
  } finally {
    spawned.child.kill("SIGKILL");
  }
}

/** Waits until the child's stderr matches `pattern`; resolves with the match. */
export async function waitForStderr(
  spawned: Spawned,
  pattern: RegExp,
  ms = TIMEOUT,
): Promise<RegExpMatchArray> {
  const found = new Promise<RegExpMatchArray>((resolve, reject) => {
    const check = () => {
      const match = spawned.stderr().match(pattern);
      if (match !== null) {
        spawned.child.stderr?.off("data", check);
        resolve(match);
      }
    };
    spawned.child.stderr?.on("data", check);
    spawned.exited.then(() => {
      const match = spawned.stderr().match(pattern);
      if (match === null) reject(new Error(`asyncnet exited; stderr:\n${spawned.stderr()}`));
      else resolve(match);
    });
    check();
  });
  return withTimeout(found, `${pattern} on stderr (stderr so far: ${spawned.stderr()})`, ms);
}

/** A server started with `--port 0`, and the port it reported. */
export interface RunningServer extends Spawned {
  port: number;
}

/** Spawns a server subcommand on 127.0.0.1 and a free port; reads the port from its `listening on` line. */
export async function startServerCli(args: readonly string[]): Promise<RunningServer> {
  const spawned = spawnCli([...args, "--host", "127.0.0.1", "--port", "0"]);
  const match = await waitForStderr(spawned, /listening on 127\.0\.0\.1:(\d+)["\n]/);
  return { ...spawned, port: Number(match[1]) };
}

/**
 * Sends `signal` to `child` by its pid. Not `child.kill(signal)`: under Deno a
 * child killed that way is reported as ended by `signal` even when it handled
 * it and exited 0, which would hide what the exit-status assertions check.
 * Harmless once the child is gone.
 */
export function sendSignal(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch (error) {
    // It exited between the check and the kill.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Sends `signal` and waits for the exit. */
export async function stopCli(
  spawned: Spawned,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  sendSignal(spawned.child, signal);
  return withTimeout(spawned.exited, `exit after ${signal}`);
}

/** A raw TCP client that collects what it receives. */
export class RawClient {
  readonly socket: net.Socket;
  /** The client's own port, kept after the socket closed (when Node forgets it). */
  readonly localPort: number;
  #received: Buffer[] = [];
  #waiters: (() => void)[] = [];
  /** Resolves when the server's EOF arrived. */
  readonly ended: Promise<void>;
  /** Resolves when the socket closed. */
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.localPort = socket.localPort ?? 0;
    socket.on("data", (chunk: Buffer) => {
      this.#received.push(chunk);
      this.#wake();
    });
    this.ended = new Promise((resolve) => socket.once("end", resolve));
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("end", () => {
      // Behave as an ordinary client: the server's EOF ends our side too.
      socket.end();
      this.#wake();
    });
    socket.on("close", () => this.#wake());
    socket.on("error", () => this.#wake());
  }

  /** Connects (half-open allowed, so the test decides when to end). */
  static async connect(port: number, host = "127.0.0.1"): Promise<RawClient> {
    const socket = net.connect({ port, host, allowHalfOpen: true });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      }),
      `connect to ${host}:${port}`,
    );
    return new RawClient(socket);
  }

  /** Everything received so far. */
  received(): Buffer {
    return Buffer.concat(this.#received);
  }

  /** Writes bytes (strings as UTF-8). */
  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** Waits until at least `text` (as bytes) was received in total; returns everything. */
  async waitFor(expected: string | Buffer, ms = TIMEOUT): Promise<Buffer> {
    const want = typeof expected === "string" ? Buffer.from(expected, "utf8") : expected;
    return this.waitUntil((data) => data.length >= want.length, `${want.length} bytes`, ms);
  }

  /** Waits until `done(received)` holds; returns what was received. */
  async waitUntil(done: (data: Buffer) => boolean, what: string, ms = TIMEOUT): Promise<Buffer> {
    const ready = (async () => {
      for (;;) {
        const data = this.received();
        if (done(data)) return data;
        if (this.socket.destroyed)
          throw new Error(`closed before ${what}; got ${JSON.stringify(data.toString("latin1"))}`);
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
    })();
    return withTimeout(
      ready,
      `${what} (got ${JSON.stringify(this.received().toString("latin1"))})`,
      ms,
    );
  }

  /** Sends EOF and waits until the server closed; returns everything received. */
  async endAndCollect(ms = TIMEOUT): Promise<Buffer> {
    this.socket.end();
    return this.collect(ms);
  }

  /** Waits until the server closed the connection; returns everything received. */
  async collect(ms = TIMEOUT): Promise<Buffer> {
    await withTimeout(this.closed, "the server to close the connection", ms);
    return this.received();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Connects, sends `chunks` (one write each), sends EOF, and returns all the server sent before closing. */
export async function exchange(
  port: number,
  chunks: readonly (string | Uint8Array)[],
  host = "127.0.0.1",
): Promise<Buffer> {
  const client = await RawClient.connect(port, host);
  for (const chunk of chunks) client.write(chunk);
  return client.endAndCollect();
}

/** The calculator's welcome line (seed 002). */
/**
 * Asserts what a seed-002 line server started with `--log-level debug` on
 * 127.0.0.1 printed first: the seed's start line, then where it listens.
 */
export function assertLineServerStart(server: RunningServer): void {
  assert.match(
    server.stderr(),
    new RegExp(
      `^main: Server up, running, and waiting for call on 127\\.0\\.0\\.1 ${server.port}\n`,
    ),
  );
  assert.match(
    server.stderr(),
    new RegExp(`^main: listening on 127\\.0\\.0\\.1:${server.port}$`, "m"),
  );
}

export const CALC_WELCOME = "<welcome: starting in sum mode>\n";

/**
 * Sends `line` and `ending` (a telnet sends `\r\n`) and asserts that exactly
 * `reply` follows what `client` had received before; bounded by `waitUntil`.
 */
export async function say(
  client: RawClient,
  line: string,
  reply: string,
  ending = "\n",
): Promise<void> {
  const before = client.received().length;
  client.write(`${line}${ending}`);
  const data = await client.waitUntil((d) => d.length >= before + reply.length, `reply to ${line}`);
  assert.equal(data.subarray(before).toString("latin1"), reply, `reply to ${JSON.stringify(line)}`);
}
