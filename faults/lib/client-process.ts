/**
 * A hostile or busy client in its own process: `dist/faults/clients/NAME.js`,
 * given its parameters as one JSON argument, talking back in JSON lines on
 * stdout (`{"event": "...", ...}`, see client-io.ts) and taking commands as
 * lines on stdin.
 *
 * @module
 */

import path from "node:path";
import { createInterface } from "node:readline";
import { spawnPinned } from "../../bench/lib/server.js";
import type { ClientEvent } from "./client-io.js";
import { ROOT } from "./server.js";

/** One client child. */
export class ClientProcess {
  readonly name: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #child;
  readonly #events: ClientEvent[] = [];
  #waiters: (() => void)[] = [];
  #stderr = "";
  #gone = false;

  constructor(name: string, params: object) {
    this.name = name;
    const script = path.join(ROOT, "dist", "faults", "clients", `${name}.js`);
    this.#child = spawnPinned(process.execPath, [script, JSON.stringify(params)], null);
    this.#child.stderr?.setEncoding("utf8");
    this.#child.stderr?.on("data", (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-4000);
    });
    const lines = createInterface({ input: this.#child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      try {
        this.#events.push(JSON.parse(line) as ClientEvent);
      } catch {
        this.#stderr = `${this.#stderr}\nstdout: ${line}`.slice(-4000);
      }
      this.#wake();
    });
    this.exited = new Promise((resolve) => {
      this.#child.once("close", (code, signal) => {
        this.#gone = true;
        this.#wake();
        resolve({ code, signal });
      });
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Writes a command line to the client's stdin. */
  send(command: string): void {
    this.#child.stdin?.write(`${command}\n`);
  }

  /**
   * Resolves with the first event named `event` (kept ones included); rejects
   * when the process exits without it, or after `ms`.
   */
  async next<T = ClientEvent>(event: string, ms: number): Promise<T> {
    const deadline = performance.now() + ms;
    for (;;) {
      const found = this.#events.find((e) => e.event === event);
      if (found !== undefined) return found as unknown as T;
      const failed = this.#events.find((e) => e.event === "error");
      if (failed !== undefined) {
        throw new Error(`client ${this.name} failed: ${String(failed.message)}`);
      }
      if (this.#gone) {
        throw new Error(`client ${this.name} exited before '${event}': ${this.#stderr.trim()}`);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`client ${this.name} sent no '${event}' within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  kill(): void {
    if (!this.#gone) this.#child.kill("SIGKILL");
  }
}
