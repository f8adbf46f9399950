/**
 * `npm run faults [-- --quick | --only REGEX | --json PATH]`
 *
 * Attacks the real `asyncnet` servers, each in its own process, from clients
 * in other processes, on 127.0.0.1 only; every scenario has a hard time limit
 * and ends every process it started. Prints a table (scenario | figure |
 * value), the broken expectations under it, and writes the same as JSON
 * (default faults/out/faults.json).
 *
 * Exit status: 0 when every scenario ran and met its expectations; 1 when one
 * failed to run or found a problem; 2 for a bad flag.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { killAll } from "../bench/lib/server.js";
import { type Outcome, type RunnableScenario, runnable } from "./lib/scenario.js";
import { ROOT } from "./lib/server.js";
import { connsScenario } from "./scenarios/conns.js";
import { emfileScenario } from "./scenarios/emfile.js";
import { fuzzCalcScenario, fuzzLineEchoScenario } from "./scenarios/fuzz.js";
import { hugeLineScenario } from "./scenarios/huge-line.js";
import { noReadCalcScenario, noReadEchoScenario } from "./scenarios/no-read.js";
import { proxyHaproxyScenario } from "./scenarios/proxy-haproxy.js";
import { resetsCalcScenario, resetsEchoScenario } from "./scenarios/resets.js";
import {
  sigtermIdleScenario,
  sigtermPipeliningScenario,
  sigtermScenario,
  sigtermStuckScenario,
} from "./scenarios/sigterm.js";
import { slowlorisFatScenario, slowlorisScenario } from "./scenarios/slowloris.js";
import { workersCrashScenario, workersRollScenario } from "./scenarios/workers-roll.js";
import { tlsAbandonedScenario } from "./scenarios/tls-abandoned.js";
import { tlsNoHelloScenario } from "./scenarios/tls-no-hello.js";

/** Every scenario, in the order they run. */
export const SCENARIOS: readonly RunnableScenario[] = [
  runnable(connsScenario),
  runnable(slowlorisScenario),
  runnable(slowlorisFatScenario),
  runnable(hugeLineScenario),
  runnable(noReadEchoScenario),
  runnable(noReadCalcScenario),
  runnable(resetsCalcScenario),
  runnable(resetsEchoScenario),
  runnable(sigtermScenario),
  runnable(sigtermPipeliningScenario),
  runnable(sigtermStuckScenario),
  runnable(sigtermIdleScenario),
  runnable(fuzzCalcScenario),
  runnable(fuzzLineEchoScenario),
  runnable(emfileScenario),
  runnable(workersRollScenario),
  runnable(workersCrashScenario),
  runnable(tlsNoHelloScenario),
  runnable(tlsAbandonedScenario),
  runnable(proxyHaproxyScenario),
];

const USAGE = `Usage: npm run faults -- [--quick] [--only REGEX] [--json PATH]

  --quick        smaller sizes: the whole run in about a minute
  --only REGEX   only the scenarios whose name matches
  --json PATH    where to write the figures (default faults/out/faults.json)
`;

function table(outcomes: readonly Outcome[]): string {
  const rows: [string, string, string][] = [["scenario", "figure", "value"]];
  for (const o of outcomes) {
    if (o.error !== undefined) rows.push([o.name, "FAILED", o.error]);
    for (const row of o.rows) rows.push([o.name, row.figure, row.value]);
  }
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
  const line = (r: [string, string, string]) =>
    `| ${r[0].padEnd(widths[0] ?? 0)} | ${r[1].padEnd(widths[1] ?? 0)} | ${r[2]} |`;
  const rule = `| ${"-".repeat(widths[0] ?? 0)} | ${"-".repeat(widths[1] ?? 0)} | --- |`;
  return [line(rows[0] as [string, string, string]), rule, ...rows.slice(1).map(line)].join("\n");
}

async function main(argv: string[]): Promise<number> {
  let values: { quick?: boolean; only?: string; json?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: "boolean" },
        only: { type: "string" },
        json: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    process.stderr.write(`faults: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const only = values.only === undefined ? undefined : new RegExp(values.only);
  const size = values.quick ? "quick" : "full";
  const chosen = SCENARIOS.filter((s) => only === undefined || only.test(s.name));
  const started = performance.now();
  const outcomes: Outcome[] = [];
  process.stdout.write(
    `faults: ${chosen.length} scenarios, ${size} sizes, node ${process.version}\n`,
  );
  for (const scenario of chosen) {
    process.stderr.write(`faults: ${scenario.name}: ${scenario.summary} ...`);
    const outcome = await scenario.run(size);
    outcomes.push(outcome);
    const verdict = outcome.problems.length === 0 ? "ok" : `${outcome.problems.length} problem(s)`;
    process.stderr.write(` ${outcome.seconds.toFixed(1)} s, ${verdict}\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`\n${table(outcomes)}\n\n`);
  const problems = outcomes.flatMap((o) => o.problems.map((p) => `${o.name}: ${p}`));
  process.stdout.write(
    problems.length === 0
      ? `Every expectation met (${seconds.toFixed(0)} s).\n`
      : `Problems (${problems.length}):\n${problems.map((p) => `  - ${p}`).join("\n")}\n`,
  );
  const file = values.json ?? path.join(ROOT, "faults", "out", "faults.json");
  mkdirSync(path.dirname(file), { recursive: true });
  const report = {
    suite: "asyncnet faults",
    startedAt: new Date(Date.now() - seconds * 1000).toISOString(),
    seconds,
    size,
    host: {
      node: process.version,
      cpus: os.cpus().length,
      platform: `${os.type()} ${os.release()}`,
    },
    outcomes,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`Figures written to ${path.relative(process.cwd(), file) || file}\n`);
  return problems.length === 0 ? 0 : 1;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}
process.once("exit", killAll);
const code = await main(process.argv.slice(2));
killAll();
process.exitCode = code;
