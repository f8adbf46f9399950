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
import { readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const USAGE = `Usage: node dist/examples/bench/resp-bench.js [options]
  --rounds N               rounds, the servers alternating within each (default 5)
  --requests N             requests per run without pipelining (default 50000)
  --requests-pipelined N   requests per run with -P 16 (default 300000)
  --clients N              redis-benchmark -c (default 50)
  --max-seconds S          no round starts after S seconds (default 900)
  --run-timeout S          each redis-benchmark run is killed after S seconds (default 120)
  --no-redis               leave redis-server out even when it is installed
  --help                   this text`;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        help: { type: "boolean", default: false },
        rounds: { type: "string", default: "5" },
        requests: { type: "string", default: "50000" },
        "requests-pipelined": { type: "string", default: "300000" },
        clients: { type: "string", default: "50" },
        "max-seconds": { type: "string", default: "900" },
        "run-timeout": { type: "string", default: "120" },
        "no-redis": { type: "boolean", default: false },
      },
    });
  } catch (error) {
    console.error(`resp-bench: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}
const { values } = parseOptions();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
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

/** One redis-benchmark run of one test (`set` or `get`): its requests per second. */
function benchmark(port: number, test: string, pipeline: number, n: number): Promise<number> {
  const args = ["-h", "127.0.0.1", "-p", String(port), "-q", "-c", String(clients)];
  args.push("-n", String(n), "-t", test, "-P", String(pipeline));
  const [command, argv] = onCpu(1, "redis-benchmark", args);
  return new Promise((resolve, reject) => {
    execFile(command, argv, { timeout: runTimeout, maxBuffer: 64 << 20 }, (error, stdout) => {
      if (error !== null) return reject(new Error(`redis-benchmark ${args.join(" ")}: ${error}`));
      // -q still redraws a progress line with \r; the test's result is on its last one.
      const match = /(?:SET|GET): ([\d.]+) requests per second/.exec(stdout);
      if (match === null)
        return reject(new Error(`redis-benchmark printed no result: ${stdout.slice(-200)}`));
      resolve(Number(match[1]));
    });
  });
}

/**
 * CPU time (user + system, ms) the process has used so far, from /proc; NaN
 * where there is none. A share of a busy CPU hides in req/s but not here.
 */
function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim()) || 100;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

const COLUMNS = [
  { label: "SET", test: "set", pipeline: 1 },
  { label: "GET", test: "get", pipeline: 1 },
  { label: "SET -P 16", test: "set", pipeline: 16 },
  { label: "GET -P 16", test: "get", pipeline: 16 },
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
  for (const target of targets) {
    for (const test of ["set", "get"]) await benchmark(target.port, test, 16, 50_000);
  }

  /** rps[target][column] and cpu[target][column] (µs of server CPU per request): one per round. */
  const rps = targets.map(() => COLUMNS.map(() => [] as number[]));
  const cpu = targets.map(() => COLUMNS.map(() => [] as number[]));
  let done = 0;
  for (let round = 0; round < rounds && Date.now() < deadline; round++) {
    for (const [c, column] of COLUMNS.entries()) {
      const n = column.pipeline === 1 ? requests : requestsPipelined;
      // Rotate the order each round so no server always runs first or last.
      for (let k = 0; k < targets.length; k++) {
        const i = (k + round) % targets.length;
        const pid = targets[i]?.child.pid;
        const before = cpuMs(pid);
        rps[i]?.[c]?.push(
          await benchmark(targets[i]?.port as number, column.test, column.pipeline, n),
        );
        cpu[i]?.[c]?.push(((cpuMs(pid) - before) * 1000) / n);
      }
    }
    done++;
    console.log(`round ${done}/${rounds} done, load ${load()}`);
  }

  const table = (
    title: string,
    data: number[][][],
    digits: number,
    ratio: (kv: number, raw: number) => number,
  ) => {
    const show = (x: number) =>
      x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
    console.log(`\n${title}, medians of ${done} rounds (min–max), -c ${clients}`);
    console.log(`| server | ${COLUMNS.map((c) => c.label).join(" | ")} |`);
    console.log(`| --- |${COLUMNS.map(() => " --- |").join("")}`);
    targets.forEach((target, i) => {
      const cells = data[i]?.map(
        (xs) => `${show(median(xs))} (${show(Math.min(...xs))}–${show(Math.max(...xs))})`,
      );
      console.log(`| ${target.name} | ${cells?.join(" | ")} |`);
    });
    // The ratio of the medians, and the median of the ratios within each round.
    const cells = COLUMNS.map((_, c) => {
      const kv = data[0]?.[c] as number[];
      const raw = data[1]?.[c] as number[];
      const paired = median(kv.map((x, r) => ratio(x, raw[r] as number)));
      return `${ratio(median(kv), median(raw)).toFixed(2)} (per round ${paired.toFixed(2)})`;
    });
    console.log(`| kv-server ÷ raw | ${cells.join(" | ")} |`);
  };
  table("req/s", rps, 0, (kv, raw) => kv / raw);
  // Speed from CPU cost: raw's µs per request over kv-server's, so above 1 means kv-server is faster.
  table("server CPU µs per request", cpu, 2, (kv, raw) => raw / kv);
}
try {
  await main();
} finally {
  for (const child of children) child.kill("SIGTERM");
}
