/**
 * Builds bench/loadgen.c with the machine's `cc` into bench/build/, and runs it.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { HOST, spawnPinned } from "./server.js";

/** What the load generator prints for a lines or bulk run (see loadgen.c). */
export interface LoadResult {
  ok: boolean;
  error?: string;
  mode: string;
  conns: number;
  pipeline: number;
  seconds: number;
  replies: number;
  rps: number;
  bytes: number;
  mbps: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  bad_replies: number;
  conn_errors: number;
  unclean_close: number;
  cpu_frac: number;
  connect_ms: number;
}

/** What it prints in idle mode once every connection has had its one exchange. */
export interface IdleResult {
  ok: boolean;
  error?: string;
  conns: number;
  connected: number;
  connect_ms: number;
  bad_replies: number;
  conn_errors: number;
}

/** The request line, the expected reply and the lines to skip first, per app. */
export interface Traffic {
  send: string;
  expect: string;
  skipLines: number;
}

/**
 * Compiles the load generator unless the binary is newer than its source.
 *
 * @throws {Error} when `cc` is missing or the compile fails, with the compiler's output
 */
export function buildLoadgen(root: string): string {
  const source = path.join(root, "bench", "loadgen.c");
  const dir = path.join(root, "bench", "build");
  const binary = path.join(dir, "loadgen");
  try {
    if (statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  } catch {
    // not built yet
  }
  mkdirSync(dir, { recursive: true });
  const cc = process.env.CC ?? "cc";
  const result = spawnSync(cc, ["-O2", "-Wall", "-Wextra", "-o", binary, source], {
    encoding: "utf8",
    timeout: 60_000,
  });
  if (result.status !== 0) {
    const detail = result.error?.message ?? result.stderr.trim();
    throw new Error(`Cannot build the load generator with ${cc}: ${detail}`);
  }
  return binary;
}

function trafficArgs(t: Traffic): string[] {
  // Passed as they are: a '\r' in an argument reaches the C program intact.
  return ["--send", t.send, "--expect", t.expect, "--skip-lines", String(t.skipLines)];
}

export interface RunLoad {
  binary: string;
  port: number;
  cpu: number | null;
  mode: "lines" | "bulk";
  conns: number;
  pipeline: number;
  duration: number;
  warmup: number;
  traffic: Traffic;
  chunk?: number;
}

/** Runs one measurement; bounded by its own alarm and by a kill here. */
export function runLoad(o: RunLoad): Promise<LoadResult> {
  const args = [
    ...["--host", HOST, "--port", String(o.port), "--mode", o.mode],
    ...["--conns", String(o.conns), "--pipeline", String(o.pipeline)],
    ...["--duration", String(o.duration), "--warmup", String(o.warmup)],
    ...["--chunk", String(o.chunk ?? 65536)],
    ...trafficArgs(o.traffic),
  ];
  const child = spawnPinned(o.binary, args, o.cpu);
  child.stdin?.end();
  let out = "";
  let err = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  child.stderr?.on("data", (c: Buffer) => {
    err = (err + c.toString("utf8")).slice(-1000);
  });
  const limit = (o.warmup + o.duration + 30) * 1000;
  const timer = setTimeout(() => child.kill("SIGKILL"), limit);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").pop() ?? "";
      try {
        const result = JSON.parse(line) as LoadResult;
        if (!result.ok && err.trim() !== "") result.error = `${result.error}: ${err.trim()}`;
        resolve(result);
      } catch {
        const why = signal === null ? `exit code ${code}` : `signal ${signal}`;
        reject(new Error(`load generator failed (${why}): ${err.trim() || out.trim()}`));
      }
    });
  });
}

/** Idle connections held by a load generator until `release()`. */
export interface IdleHold {
  result: IdleResult;
  release(): Promise<void>;
}

/** Opens `conns` connections, one exchange each, and holds them (loadgen --mode idle). */
export function holdIdle(
  binary: string,
  port: number,
  cpu: number | null,
  conns: number,
  traffic: Traffic,
): Promise<IdleHold> {
  const args = [
    ...["--host", HOST, "--port", String(port), "--mode", "idle", "--conns", String(conns)],
    ...["--connect-timeout", "30", "--duration", "1"],
    ...trafficArgs(traffic),
  ];
  const child = spawnPinned(binary, args, cpu);
  let err = "";
  child.stderr?.on("data", (c: Buffer) => {
    err = (err + c.toString("utf8")).slice(-1000);
  });
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const release = async () => {
    child.stdin?.end();
    await closed;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once("line", (line) => {
      try {
        const result = JSON.parse(line) as IdleResult;
        if (!result.ok && err.trim() !== "") result.error = `${result.error}: ${err.trim()}`;
        resolve({ result, release });
      } catch {
        void release();
        reject(new Error(`load generator (idle) printed: ${line}`));
      }
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`load generator (idle) exited with code ${code}: ${err.trim()}`));
    });
  });
}
