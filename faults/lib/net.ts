/**
 * In-process clients for the scenarios that need one or a few connections:
 * a line collector with bounded waits, and the probe that tells whether a
 * fresh client is still answered.
 *
 * @module
 */

import net from "node:net";
import { HOST, type ServerApp } from "./server.js";

/** Connects to the server on `port`; rejects on error or after `ms`. */
export function connect(
  port: number,
  ms = 10_000,
  options: { allowHalfOpen?: boolean } = {},
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port, allowHalfOpen: options.allowHalfOpen ?? true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`Cannot connect to ${HOST}:${port}: no answer within ${ms} ms`));
    }, ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** How a connection ended, seen from the client. */
export type Ending = "open" | "eof" | "reset" | "error";

/**
 * Collects what a socket receives: every line (the first `keep` kept whole),
 * byte and line counts, and how the connection ended.
 */
export class LineCollector {
  readonly lines: string[] = [];
  lineCount = 0;
  bytes = 0;
  ending: Ending = "open";
  errorCode: string | undefined;
  #partial = "";
  #waiters: (() => void)[] = [];
  readonly #keep: number;

  constructor(socket: net.Socket, keep = 1000) {
    this.#keep = keep;
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      this.bytes += text.length;
      const parts = (this.#partial + text).split("\n");
      this.#partial = parts.pop() ?? "";
      // A line longer than 1 KiB is not worth keeping: only its start is.
      if (this.#partial.length > 1024) this.#partial = this.#partial.slice(0, 1024);
      for (const part of parts) {
        this.lineCount++;
        if (this.lines.length < this.#keep) this.lines.push(`${part}\n`);
      }
      this.#wake();
    });
    socket.on("end", () => {
      if (this.ending === "open") this.ending = "eof";
      this.#wake();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      this.errorCode = error.code;
      this.ending = error.code === "ECONNRESET" ? "reset" : "error";
      this.#wake();
    });
    socket.on("close", () => {
      if (this.ending === "open") this.ending = "eof";
      this.#wake();
    });
  }

  /** Bytes received after the last newline (a reply cut short). */
  get partial(): string {
    return this.#partial;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves true once `predicate()` holds, false after `ms` or when the connection ended without it. */
  async until(predicate: () => boolean, ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    for (;;) {
      if (predicate()) return true;
      const left = deadline - performance.now();
      if (left <= 0 || this.ending !== "open") return predicate();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves true once the connection ended, false after `ms`. */
  closed(ms: number): Promise<boolean> {
    return this.until(() => this.ending !== "open", ms);
  }
}

/** The request and the exact reply (after the welcome, if any) of a probe, per app. */
export const PROBES: Record<ServerApp, { welcome: string; send: string; reply: string }> = {
  "calc-server": {
    welcome: "<welcome: starting in sum mode>\n",
    send: "1,2\n",
    reply: "Sum of input numbers: '3'\r\n",
  },
  "line-echo-server": { welcome: "", send: "probe\n", reply: "Echoed: 'probe'\r\n" },
  "echo-server": { welcome: "", send: "probe\n", reply: "probe\n" },
};

/**
 * Whether a fresh client is answered: connects, sends the app's probe line
 * and expects its exact reply within `ms`; then half-closes and waits for the
 * server's EOF. Never throws: a failure is `false`.
 */
export async function probe(app: ServerApp, port: number, ms = 5000): Promise<boolean> {
  const { welcome, send, reply } = PROBES[app];
  let socket: net.Socket | undefined;
  try {
    socket = await connect(port, ms);
    const lines = new LineCollector(socket);
    socket.write(send);
    const want = (welcome === "" ? 0 : 1) + 1;
    const got = await lines.until(() => lines.lineCount >= want, ms);
    const ok = got && lines.lines.join("") === welcome + reply;
    socket.end();
    await lines.closed(ms);
    return ok;
  } catch {
    return false;
  } finally {
    socket?.destroy();
  }
}
