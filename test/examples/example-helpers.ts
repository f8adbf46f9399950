/**
 * Helpers for the examples' tests: spawn `dist/examples/NAME.js`, wait for its
 * `listening on HOST:PORT` line, and talk to it over raw loopback sockets.
 * Every wait is bounded; `killExamples()` ends every child still running.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";

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

/** A running example with its output collected. */
export interface Example {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A running example server and the port it printed. */
export interface ExampleServer extends Example {
  port: number;
}

const children = new Set<ChildProcess>();

/** Spawns `dist/examples/NAME.js ...args` with this node. */
export function spawnExample(name: string, args: readonly string[]): Example {
  const file = fileURLToPath(new URL(`../../examples/${name}.js`, import.meta.url));
  const child = spawn(process.execPath, [file, ...args], { stdio: ["ignore", "pipe", "pipe"] });
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
    stdout: () => Buffer.concat(out).toString("utf8"),
    stderr: () => Buffer.concat(err).toString("utf8"),
    exited,
  };
}

/** Spawns an example server on 127.0.0.1 port 0 and waits for its `listening on` line. */
export async function startExample(
  name: string,
  args: readonly string[] = [],
): Promise<ExampleServer> {
  const example = spawnExample(name, ["--host", "127.0.0.1", "--port", "0", ...args]);
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      const check = () => {
        const match = /^listening on 127\.0\.0\.1:(\d+)$/m.exec(example.stdout());
        if (match !== null) resolve(Number(match[1]));
      };
      example.child.stdout?.on("data", check);
      void example.exited.then(({ code }) =>
        reject(new Error(`${name} exited (${code}) before listening: ${example.stderr()}`)),
      );
    }),
    `${name} to listen`,
  );
  return { ...example, port };
}

/** Stops an example with SIGTERM (SIGKILL if it lingers) and waits for it to exit. */
export async function stopExample(example: Example): Promise<void> {
  if (example.child.exitCode !== null || example.child.signalCode !== null) return;
  example.child.kill("SIGTERM");
  const timer = setTimeout(() => example.child.kill("SIGKILL"), 5_000);
  await example.exited.finally(() => clearTimeout(timer));
}

/** Kills every example child still running (for `after`). */
export function killExamples(): void {
  for (const child of children) child.kill("SIGKILL");
}

/** A raw loopback client that collects what it receives. */
export class Client {
  readonly socket: net.Socket;
  readonly connected: Promise<void>;
  readonly closed: Promise<void>;
  #received: Buffer[] = [];
  #text = "";
  #waiters = new Set<() => void>();

  constructor(port: number) {
    this.socket = net.createConnection({ host: "127.0.0.1", port });
    this.connected = new Promise((resolve, reject) => {
      this.socket.once("connect", resolve);
      this.socket.once("error", reject);
    });
    this.closed = new Promise((resolve) => this.socket.once("close", () => resolve()));
    this.socket.on("error", () => {});
    this.socket.on("data", (chunk: Buffer) => {
      this.#received.push(chunk);
      this.#text += chunk.toString("latin1");
      for (const wake of this.#waiters) wake();
    });
    this.socket.on("close", () => {
      for (const wake of this.#waiters) wake();
    });
  }

  /** Everything received so far, as UTF-8. */
  text(): string {
    return Buffer.concat(this.#received).toString("utf8");
  }

  /**
   * Waits until `needle` (ASCII) has been received at or after byte `from`;
   * resolves with the offset just past it. Looks at each byte a bounded
   * number of times, for floods.
   */
  async untilIncludes(needle: string, what: string, from = 0, ms = TIMEOUT): Promise<number> {
    let searched = from;
    let wake: () => void = () => {};
    try {
      return await withTimeout(
        new Promise<number>((resolve, reject) => {
          wake = () => {
            const at = this.#text.indexOf(needle, searched);
            if (at !== -1) resolve(at + needle.length);
            else if (this.socket.destroyed) reject(new Error(`closed before ${what}`));
            else searched = Math.max(searched, this.#text.length - needle.length + 1);
          };
          this.#waiters.add(wake);
          wake();
        }),
        what,
        ms,
      );
    } finally {
      this.#waiters.delete(wake);
    }
  }

  /** Everything received so far. */
  bytes(): Buffer {
    return Buffer.concat(this.#received);
  }

  /** Waits until `predicate(text())` holds. */
  async until(predicate: (text: string) => boolean, what: string, ms = TIMEOUT): Promise<string> {
    let wake: () => void = () => {};
    try {
      return await withTimeout(
        new Promise<string>((resolve, reject) => {
          wake = () => {
            const text = this.text();
            if (predicate(text)) resolve(text);
            else if (this.socket.destroyed) reject(new Error(`closed before ${what}: ${text}`));
          };
          this.#waiters.add(wake);
          wake();
        }),
        what,
        ms,
      );
    } finally {
      this.#waiters.delete(wake);
    }
  }

  /** Writes `data`. */
  send(data: string | Buffer): void {
    this.socket.write(data);
  }
}
