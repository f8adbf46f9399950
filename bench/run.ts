/**
 * `npm run bench [-- --quick | --rounds N | --duration S | --only REGEX | --json PATH]`
 *
 * Runs every scenario on every peer (asyncnet's CLI servers, raw `node:net`, the seeds'
 * asyncio servers on python3 and on uvloop) with a native load generator, in rounds
 * with the peers alternating, so that ratios between peers survive a noisy machine.
 * Prints a table, writes a JSON file and an SVG chart of the same numbers.
 * Exit status: 0 when every row was measured, skipped or marked failed; 1 when the
 * bench itself cannot run (no C compiler); 2 for a bad flag.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildLoadgen } from "./lib/loadgen.js";
import { type MeasureContext, measure } from "./lib/measure.js";
import { parseOptions, USAGE } from "./lib/options.js";
import {
  type Environment,
  PEERS,
  peersWithBaseline,
  type PeerCommand,
  type PeerSpec,
  probeEnvironment,
  resolvePeer,
} from "./lib/peers.js";
import { formatNumber, formatTable, Results } from "./lib/report.js";
import { SCENARIOS, type Scenario } from "./lib/scenarios.js";
import { killAll } from "./lib/server.js";
import { planWorkersRows } from "./lib/workers-row.js";
import { renderSvg } from "./lib/svg.js";
import { checkTranscript } from "./lib/transcript.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

interface Pinning {
  server: number;
  loadgen: number;
}

function allowedCpus(): number[] {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? "";
    return list.split(",").flatMap((part) => {
      const [a, b] = part.split("-").map(Number) as [number, number | undefined];
      return Array.from({ length: (b ?? a) - a + 1 }, (_, i) => a + i);
    });
  } catch {
    return [];
  }
}

/** Two CPUs that `taskset` can use, or why not. */
function choosePinning(wanted: boolean): Pinning | string {
  if (!wanted) return "--no-pin";
  const cpus = allowedCpus();
  if (cpus.length < 2) return `only ${cpus.length} CPU allowed`;
  const pin = { server: cpus[0] as number, loadgen: cpus[1] as number };
  const check = spawnSync("taskset", ["-c", String(pin.loadgen), "true"], { timeout: 5000 });
  return check.status === 0 ? pin : "taskset not available";
}

function describe(env: Environment, pin: Pinning | string): string {
  const python = env.python === null ? "no python3" : `python ${env.pythonVersion}`;
  const uvloop =
    env.uvloopPython === null ? "no uvloop" : `${env.uvloopPython} ${env.uvloopVersion}`;
  const pinned =
    typeof pin === "string"
      ? `not pinned (${pin})`
      : `server on CPU ${pin.server}, load generator on CPU ${pin.loadgen}`;
  const bun = env.bun === null ? "no bun" : `bun ${env.bunVersion}`;
  const deno = env.deno === null ? "no deno" : env.denoVersion;
  const base = env.baselineCli === null ? "" : `; @base: ${env.baselineCli}`;
  return `node ${process.version}, ${python}, ${uvloop}, ${bun}, ${deno}; ${pinned}${base}`;
}

interface Entry {
  scenario: Scenario;
  peer: PeerSpec;
  cmd: PeerCommand;
}

/**
 * A raw calculator or line echo that answered differently would be fast for nothing: the
 * rows of every raw calculator and line echo, and of asyncnet's calculator on Bun and
 * Deno, count only when their replies to the transcript are asyncnet's server's on
 * Node, byte for byte. The peers that fail are taken out of `plan`.
 */
async function checkLinePeers(plan: Entry[], results: Results, env: Environment): Promise<void> {
  const failed = new Set<PeerSpec>();
  for (const app of ["calc", "line"] as const) {
    const server = app === "calc" ? "calc-server" : "line-echo-server";
    const reference = PEERS.find((p) => p.app === app && p.id === "asyncnet");
    const resolved = reference === undefined ? null : resolvePeer(reference, env);
    const checked = new Set<PeerSpec>();
    for (const entry of plan) {
      const { peer } = entry;
      if (peer.app !== app || peer === reference || checked.has(peer)) continue;
      if (peer.family !== "raw" && peer.runtime === "node") continue;
      checked.add(peer);
      if (resolved?.ok !== true) {
        process.stderr.write(
          `bench: ${app} ${peer.id}: transcript not checked (no asyncnet CLI)\n`,
        );
        continue;
      }
      let problem: string | null;
      try {
        problem = await checkTranscript(app, entry.cmd, resolved.cmd);
      } catch (error) {
        problem = `(transcript check failed: ${(error as Error).message})`;
      }
      if (problem === null) {
        process.stderr.write(`bench: ${app} ${peer.id} answers the transcript as asyncnet does\n`);
        continue;
      }
      const reason = `replies differ from asyncnet ${server} ${problem}`;
      process.stderr.write(`bench: ${app} ${peer.id}: FAILED: ${reason}\n`);
      failed.add(peer);
      for (const e of plan.filter((x) => x.peer === peer)) {
        results.fail(e.scenario.id, e.peer.id, "failed", reason);
      }
    }
  }
  plan.splice(0, plan.length, ...plan.filter((e) => !failed.has(e.peer)));
}

async function main(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (options === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let loadgen: string;
  try {
    loadgen = buildLoadgen(ROOT);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
  const started = new Date();
  const env = probeEnvironment(ROOT);
  if (options.baseline !== null) {
    const cli = path.resolve(options.baseline, "dist", "src", "cli", "main.js");
    if (!existsSync(cli)) {
      process.stderr.write(
        `Cannot use --baseline ${options.baseline}: no ${cli} (build it there)\n`,
      );
      return 2;
    }
    env.baselineCli = cli;
  }
  const pin = choosePinning(options.pin);
  const setting = describe(env, pin);
  process.stderr.write(`bench: ${setting}\n`);

  const results = new Results();
  const plan: Entry[] = [];
  const told = new Set<string>();
  for (const scenario of SCENARIOS) {
    for (const peer of peersWithBaseline(options.baseline !== null)) {
      if (peer.app !== scenario.app) continue;
      if (options.only !== null && !options.only.test(`${scenario.id} ${peer.id}`)) continue;
      results.add(scenario, peer);
      const resolved = resolvePeer(peer, env);
      if (resolved.ok) {
        plan.push({ scenario, peer, cmd: resolved.cmd });
      } else {
        results.fail(scenario.id, peer.id, resolved.code, resolved.reason);
        // One notice per peer: its every row says the same.
        if (!told.has(`${peer.app} ${peer.id}`)) {
          told.add(`${peer.app} ${peer.id}`);
          process.stderr.write(`bench: ${peer.app} ${peer.id}: skipped: ${resolved.reason}\n`);
        }
      }
    }
  }
  planWorkersRows(plan, results, env, options.only);
  if (results.size === 0) {
    process.stderr.write(`bench: no scenario or peer matches --only ${options.only?.source}\n`);
    return 2;
  }

  await checkLinePeers(plan, results, env);

  const ctx: MeasureContext = {
    loadgen,
    serverCpu: typeof pin === "string" ? null : pin.server,
    loadgenCpu: typeof pin === "string" ? null : pin.loadgen,
    duration: options.duration,
    warmup: options.warmup,
    idleConns: options.idleConns,
    idleSettle: options.idleSettle,
    round: 0,
  };
  // A peer that cannot start is not retried in every later scenario.
  const broken = new Map<string, string>();
  for (let round = 1; round <= options.rounds; round++) {
    ctx.round = round;
    for (const scenario of SCENARIOS) {
      const entries = plan.filter((e) => e.scenario === scenario);
      // Rotate who goes first, so that no peer always follows the same neighbour.
      const shift = entries.length === 0 ? 0 : (round - 1) % entries.length;
      for (const e of [...entries.slice(shift), ...entries.slice(0, shift)]) {
        const peerKey = `${e.peer.app}/${e.peer.id}`;
        const label = `[${round}/${options.rounds}] ${scenario.id} ${e.peer.id}`;
        const known = broken.get(peerKey);
        if (known !== undefined) {
          results.fail(scenario.id, e.peer.id, "failed", known);
          continue;
        }
        const outcome = await measure(scenario, e.cmd, ctx);
        if (outcome.ok) {
          results.sample(scenario.id, e.peer.id, outcome.sample);
          const s = outcome.sample;
          const shown = formatNumber(scenario.unit, s.value);
          const perSecond = scenario.unit === "replies/s" ? "/s" : "";
          const p99 = s.p99Us === null ? "" : ` p99 ${Math.round(s.p99Us)} µs`;
          process.stderr.write(`${label}: ${shown}${perSecond}${p99}\n`);
        } else {
          results.fail(scenario.id, e.peer.id, "failed", outcome.reason);
          if (outcome.startup) broken.set(peerKey, outcome.reason);
          process.stderr.write(`${label}: FAILED: ${outcome.reason}\n`);
        }
      }
    }
  }

  const rows = results.rows();
  process.stdout.write(`${formatTable(rows)}\n`);
  const jsonPath = path.resolve(options.json ?? path.join(ROOT, "bench", "out", "bench.json"));
  const svgPath = jsonPath.endsWith(".json")
    ? jsonPath.replace(/\.json$/, ".svg")
    : `${jsonPath}.svg`;
  const subtitle = [
    `${started.toISOString()} · ${options.rounds} round(s) × ${options.duration} s per peer`,
    setting,
  ];
  const report = {
    benchmark: "asyncnet",
    version: 1,
    startedAt: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    host: { cpus: os.cpus().length, platform: `${os.platform()} ${os.release()}` },
    setting,
    environment: env,
    pinning: typeof pin === "string" ? null : pin,
    options: { ...options, only: options.only?.source ?? null },
    scenarios: SCENARIOS,
    rows,
  };
  mkdirSync(path.dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(svgPath, renderSvg(rows, SCENARIOS, subtitle));
  process.stdout.write(`\nJSON: ${jsonPath}\nSVG:  ${svgPath}\n`);
  return 0;
}

// Servers run until stopped: a runner stopped by a signal takes them along.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + os.constants.signals[signal]);
  });
}
process.exitCode = await main(process.argv.slice(2));
