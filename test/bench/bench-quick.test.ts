import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

// dist/test/bench/ → the repository
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

// Written out here rather than imported, so that a runner that drops a row fails.
const ECHO_PEERS = [
  "raw-node",
  "floor-node",
  "asyncnet-streams",
  "asyncnet-protocol",
  "asyncio-streams",
  "asyncio-protocol",
  "uvloop-streams",
  "uvloop-protocol",
  "raw-bun",
  "raw-net-bun",
  "asyncnet-streams-bun",
  "raw-deno",
  "raw-net-deno",
  "asyncnet-streams-deno",
];
const CALC_PEERS = [
  "raw-node",
  "asyncnet",
  "asyncio",
  "uvloop",
  "raw-bun",
  "raw-net-bun",
  "asyncnet-bun",
  "raw-deno",
  "raw-net-deno",
  "asyncnet-deno",
];
const LINE_PEERS = ["raw-node", "asyncnet"];
const EXPECTED: [string, string][] = [
  ...["pingpong-50", "pipelined-50x16", "conns-1000", "bulk-64k", "idle-rss"].flatMap((s) =>
    ECHO_PEERS.map((p): [string, string] => [`echo/${s}`, p]),
  ),
  ...["pingpong-50", "pipelined-50x16", "conns-1000", "idle-rss"].flatMap((s) =>
    CALC_PEERS.map((p): [string, string] => [`calc/${s}`, p]),
  ),
  // The --workers row (bench/lib/workers-row.ts).
  ["calc/pipelined-50x16", "asyncnet-workers-1"],
  ["calc/pipelined-50x16", "asyncnet-workers-2"],
  ...["pingpong-50", "pipelined-50x16", "conns-1000"].flatMap((s) =>
    LINE_PEERS.map((p): [string, string] => [`line/${s}`, p]),
  ),
];

interface Row {
  scenario: string;
  peer: string;
  family: string;
  runtime: string;
  status: string;
  reasonCode: string | null;
  reason: string | null;
  value: number | null;
  p50Us: number | null;
  p99Us: number | null;
  p999Us: number | null;
  samples: unknown[];
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "dist", "bench", "run.js"), ...args],
      { cwd: ROOT, timeout: 420_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const uvloopInstalled =
  spawnSync("/usr/bin/python3", ["-c", "import uvloop"], { timeout: 10_000 }).status === 0 ||
  spawnSync("python3", ["-c", "import uvloop"], { timeout: 10_000 }).status === 0;
const asyncnetBuilt = existsSync(path.join(ROOT, "dist", "src", "cli", "main.js"));

/**
 * Whether Bun or Deno runs, where the bench looks for it: its own cache directory, then
 * the one `.ci/runtimes.sh` installs into, then the PATH.
 */
function runtimeInstalled(name: string): boolean {
  const cache =
    process.env.ASYNCNET_BENCH_RUNTIMES ?? path.join(os.homedir(), ".cache", "asyncnet-bench");
  const ci =
    process.env.ASYNCNET_RUNTIMES_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "asyncnet-runtimes");
  const ciBinary =
    name === "bun"
      ? path.join("node_modules", "@oven", "bun-linux-x64", "bin", "bun")
      : path.join("node_modules", "@deno", "linux-x64-glibc", "deno");
  return [
    path.join(cache, name, "node_modules", ".bin", name),
    path.join(ci, name, ciBinary),
    name,
  ].some((binary) => spawnSync(binary, ["--version"], { timeout: 10_000 }).status === 0);
}

test(
  "bench --quick completes and reports every scenario on every peer",
  {
    timeout: 480_000,
  },
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "asyncnet-bench-"));
    try {
      const jsonPath = path.join(dir, "quick.json");
      const { code, stdout, stderr } = await run(["--quick", "--json", jsonPath]);
      assert.equal(code, 0, `bench exited with ${code}\n${stderr.slice(-4000)}`);

      const report = JSON.parse(readFileSync(jsonPath, "utf8")) as { rows: Row[] };
      const keys = report.rows.map((r) => `${r.scenario} ${r.peer}`);
      assert.deepEqual([...keys].sort(), EXPECTED.map(([s, p]) => `${s} ${p}`).sort());

      const tableLines = stdout.split("\n");
      for (const row of report.rows) {
        const where = `${row.scenario} ${row.peer}`;
        const line = tableLines.find((l) =>
          new RegExp(`^${row.scenario}\\s+${row.peer}\\s`).test(l),
        );
        assert.ok(line !== undefined, `no table line for ${where}`);

        if (row.status === "skipped") {
          // Only three reasons are acceptable, and only when they are true.
          if (row.reasonCode === "uvloop-missing") {
            assert.equal(row.family, "uvloop", where);
            assert.equal(uvloopInstalled, false, `${where} skipped although uvloop is installed`);
          } else if (row.reasonCode === "runtime-missing") {
            assert.ok(row.runtime === "bun" || row.runtime === "deno", where);
            assert.equal(
              runtimeInstalled(row.runtime),
              false,
              `${where} skipped although installed`,
            );
          } else {
            assert.equal(row.reasonCode, "asyncnet-missing", `${where}: ${row.reason}`);
            assert.equal(row.family, "asyncnet", where);
            assert.equal(asyncnetBuilt, false, `${where} skipped although the CLI is built`);
          }
          assert.match(line as string, /skipped: /);
          continue;
        }
        assert.equal(row.status, "ok", `${where}: ${row.reason}`);
        assert.ok(row.samples.length >= 1, `${where} has no sample`);
        assert.ok(row.value !== null && Number.isFinite(row.value) && row.value > 0, where);
        if (!row.scenario.endsWith("idle-rss")) {
          const { p50Us, p99Us, p999Us } = row;
          assert.ok(p50Us !== null && p99Us !== null && p999Us !== null, `${where} has no latency`);
          assert.ok(
            0 < p50Us && p50Us <= p99Us && p99Us <= p999Us,
            `${where} latency out of order`,
          );
        }
      }

      const svg = readFileSync(path.join(dir, "quick.svg"), "utf8");
      assert.match(svg, /^<svg /);
      assert.match(svg, /<\/svg>\s*$/);
      for (const [scenario] of EXPECTED) assert.ok(svg.includes(scenario), `SVG lacks ${scenario}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
