/**
 * A peer server as a child process: started (pinned to a CPU when asked), watched
 * until it accepts a connection, read from /proc, and stopped.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import type { PeerCommand } from "./peers.js";

export const HOST = "127.0.0.1";
const TAIL = 2000;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const live = new Set<ChildProcess>();

/** Spawns `command args`, under `taskset -c CPU` when `cpu` is a number. */
export function spawnPinned(command: string, args: string[], cpu: number | null): ChildProcess {
  const child =
    cpu === null
      ? spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] })
      : spawn("taskset", ["-c", String(cpu), command, ...args], {
          stdio: ["pipe", "pipe", "pipe"],
        });
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** Kills every process spawned here that still runs: for a runner that is itself stopped. */
export function killAll(): void {
  for (const child of live) child.kill("SIGKILL");
}

/** A port in 20000–32767 that is free now: below Linux's ephemeral range, so no client takes it. */
export async function pickPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once("error", () => resolve(false));
      probe.listen({ host: HOST, port, exclusive: true }, () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error("Cannot find a free port: 50 tries in 20000-32767 were taken");
}

/** Resident set size of process `pid` in KiB, from /proc/PID/status. */
export function readRssKb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match === null) throw new Error(`No VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

function connectOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    socket.once("error", () => resolve(false));
    socket.once("connect", () => {
      // Half-close and read to the end, so the server sees a clean EOF, not a reset.
      socket.resume();
      socket.end();
      const timer = setTimeout(() => socket.destroy(), 500);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  });
}

export class ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  #output = "";
  #exit: string | null = null;
  readonly #exited: Promise<void>;

  constructor(cmd: PeerCommand, port: number, cpu: number | null) {
    this.port = port;
    this.child = spawnPinned(cmd.command, cmd.args(HOST, port), cpu);
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString("utf8")).slice(-TAIL);
    };
    this.child.stdout?.on("data", keep);
    this.child.stderr?.on("data", keep);
    this.#exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.#exit = signal === null ? `exited with code ${code}` : `killed by ${signal}`;
        resolve();
      });
      this.child.once("error", (error) => {
        this.#exit = `cannot start: ${error.message}`;
        resolve();
      });
    });
  }

  /** Why the process is gone, with the end of what it printed; null while it runs. */
  get exitReason(): string | null {
    if (this.#exit === null) return null;
    const tail = this.#output.trim().split("\n").slice(-3).join(" | ");
    return tail === "" ? this.#exit : `${this.#exit}: ${tail}`;
  }

  /** Resolves once a connection is accepted; rejects when the process exits or `ms` pass. */
  async waitListening(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.#exit !== null) throw new Error(this.exitReason ?? "exited");
      if (await connectOnce(this.port)) return;
      await sleep(25);
    }
    throw new Error(`not listening on ${HOST}:${this.port} within ${ms / 1000} s`);
  }

  /** Resident set size in KiB, from /proc/PID/status. */
  rssKb(): number {
    return readRssKb(this.child.pid);
  }

  /** CPU seconds used so far (user + system), from /proc/PID/stat. */
  cpuSeconds(): number {
    try {
      const stat = readFileSync(`/proc/${this.child.pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return Number.NaN;
    }
  }

  /** SIGTERM, then SIGKILL after a second; resolves when the process is gone. */
  async stop(): Promise<void> {
    if (this.#exit !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 1000);
    await this.#exited;
    clearTimeout(timer);
  }
}
