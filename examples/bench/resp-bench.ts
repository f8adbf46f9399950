#!/usr/bin/env node
/**
 * Runs `redis-benchmark -q -c 50 -t set,get` (with and without `-P 16`)
 * against kv-server, its raw `node:net` twin and, if installed, Debian's
 * `redis-server`, alternating them over several rounds, and prints the
 * medians and kv-server ÷ raw. Servers are pinned to CPU 0 and the load
 * generator to CPU 1 with `taskset` (when it exists). Every run is bounded:
 * each `redis-benchmark` by `--run-timeout`, the whole by `--max-seconds`
 * (rounds not started by then are skipped and the medians say how many ran).
 *
 *     npm run build
 *     node dist/examples/bench/resp-bench.js --rounds 5
 *
 * @module
 */

import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import net from "node:net";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    requests: { type: "string", default: "50000" },
    "requests-pipelined": { type: "string", default: "300000" },
    clients: { type: "string", default: "50" },
    "max-seconds": { type: "string", default: "900" },
    "run-timeout": { type: "string", default: "120" },
    "no-redis": { type: "boolean", default: false },
  },
});
const rounds = positive("rounds");
const requests = positive("requests");
const requestsPipelined = positive("requests-pipelined");
const clients = positive("clients");
const deadline = Date.now() + positive("max-seconds") * 1000;
const runTimeout = positive("run-timeout") * 1000;

function positive(name: keyof typeof values): number {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`resp-bench: --${name} must be a positive integer, got ${values[name]}`);
    process.exit(2);
  }
  return value;
}

const has = (command: string) => spawnSync(command, ["--version"]).status === 0;
if (!has("redis-benchmark")) {
  console.error("resp-bench: redis-benchmark not found (apt-get install -y redis-tools)");
  process.exit(2);
}
const pinned = spawnSync("taskset", ["-c", "0", "true"]).status === 0;
/** `command args` pinned to `cpu` when taskset works, else as is. */
const onCpu = (cpu: number, command: string, args: string[]): [string, string[]] =>
  pinned ? ["taskset", ["-c", String(cpu), command, ...args]] : [command, args];

interface Target {
  name: string;
  port: number;
  child: ChildProcess;
}

const here = fileURLToPath(new URL(".", import.meta.url));
const children: ChildProcess[] = [];

/** Starts a node server printing `listening on HOST:PORT` and returns its port. */
async function startNode(name: string, file: string): Promise<Target> {
  const [command, args] = onCpu(0, process.execPath, [file, "--host", "127.0.0.1", "--port", "0"]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const port = await bounded(
    new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on [^\s]+:(\d+)/.exec(out);
        if (match !== null) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`${name} exited (${code}) before listening`)));
    }),
    10_000,
    `${name} to listen`,
  );
  return { name, port, child };
}

async function startRedis(): Promise<Target> {
  const port = await freePort();
  const [command, args] = onCpu(0, "redis-server", [
    ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    ...["--daemonize", "no", "--loglevel", "warning"],
  ]);
  const child = spawn(command, args, { stdio: "ignore" });
  children.push(child);
  const started = Date.now();
  while (!(await accepts(port))) {
    if (Date.now() - started > 10_000) throw new Error("redis-server did not listen within 10 s");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { name: "redis-server", port, child };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.once("error", reject);
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One redis-benchmark run: requests per second of SET and GET. */
function benchmark(port: number, pipeline: number, n: number): Promise<Record<string, number>> {
  const args = ["-h", "127.0.0.1", "-p", String(port), "-q", "-c", String(clients)];
  args.push("-n", String(n), "-t", "set,get", "-P", String(pipeline));
  const [command, argv] = onCpu(1, "redis-benchmark", args);
  return new Promise((resolve, reject) => {
    execFile(command, argv, { timeout: runTimeout, maxBuffer: 64 << 20 }, (error, stdout) => {
      if (error !== null) return reject(new Error(`redis-benchmark ${args.join(" ")}: ${error}`));
      const found: Record<string, number> = {};
      // -q still redraws a progress line with \r; the last line of each test holds its result.
      for (const match of stdout.matchAll(/(SET|GET): ([\d.]+) requests per second/g)) {
        found[match[1] as string] = Number(match[2]);
      }
      if (found.SET === undefined || found.GET === undefined) {
        return reject(new Error(`redis-benchmark printed no result: ${stdout.slice(-200)}`));
      }
      resolve(found);
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");

const COLUMNS = [
  { label: "SET", test: "SET", pipeline: 1 },
  { label: "GET", test: "GET", pipeline: 1 },
  { label: "SET -P 16", test: "SET", pipeline: 16 },
  { label: "GET -P 16", test: "GET", pipeline: 16 },
] as const;

async function main(): Promise<void> {
  const targets: Target[] = [
    await startNode("kv-server", `${here}../kv-server.js`),
    await startNode("raw node:net", `${here}raw-kv-server.js`),
  ];
  if (!values["no-redis"] && has("redis-server")) targets.push(await startRedis());
  const load = () =>
    os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ");
  console.log(
    `node ${process.version}, ${os.cpus().length} CPUs, pinned: ${pinned}, load ${load()}`,
  );
  // One short pipelined run each first, so no server is measured cold.
  for (const target of targets)
    await benchmark(target.port, 16, Math.min(requestsPipelined, 50_000));

  /** results[target][column] = one figure per round. */
  const results = targets.map(() => COLUMNS.map(() => [] as number[]));
  let done = 0;
  for (let round = 0; round < rounds && Date.now() < deadline; round++) {
    for (const pipeline of [1, 16]) {
      // Rotate the order each round so no server always runs first or last.
      for (let k = 0; k < targets.length; k++) {
        const i = (k + round) % targets.length;
        const target = targets[i] as Target;
        const found = await benchmark(
          target.port,
          pipeline,
          pipeline === 1 ? requests : requestsPipelined,
        );
        COLUMNS.forEach((column, c) => {
          if (column.pipeline === pipeline) results[i]?.[c]?.push(found[column.test] as number);
        });
      }
    }
    done++;
    console.log(`round ${done}/${rounds} done, load ${load()}`);
  }

  console.log(`\nmedians of ${done} rounds, req/s (min–max), -c ${clients}`);
  console.log(`| server | ${COLUMNS.map((c) => c.label).join(" | ")} |`);
  console.log(`| --- |${COLUMNS.map(() => " --- |").join("")}`);
  targets.forEach((target, i) => {
    const cells = results[i]?.map(
      (xs) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`,
    );
    console.log(`| ${target.name} | ${cells?.join(" | ")} |`);
  });
  // Ratios of medians, and the median of the per-round ratios (each from the same round).
  const kv = results[0] as number[][];
  const raw = results[1] as number[][];
  const ratioCells = COLUMNS.map((_, c) => {
    const a = kv[c] as number[];
    const b = raw[c] as number[];
    const paired = median(a.map((x, r) => x / (b[r] as number)));
    return `${(median(a) / median(b)).toFixed(2)} (paired ${paired.toFixed(2)})`;
  });
  console.log(`| kv-server ÷ raw | ${ratioCells.join(" | ")} |`);
}

try {
  await main();
} finally {
  for (const child of children) child.kill("SIGTERM");
}
