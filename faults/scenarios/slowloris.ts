/**
 * `slowloris`: N connections to the calculator that start a line and add a
 * byte to it every second, never finishing it (a client process). The server
 * should close each one once its line is older than `--line-timeout`, while a
 * legitimate client (the native load generator) keeps its latency: measured
 * alone first (the baseline), then beside the N.
 *
 * @module
 */

import { buildLoadgen, type LoadResult, runLoad } from "../../bench/lib/loadgen.js";
import { withinLab } from "../lib/lab.js";
import { probe } from "../lib/net.js";
import { settleFds } from "../lib/sampler.js";
import {
  bytes,
  type Checked,
  int,
  mib,
  ms,
  type Row,
  type Scenario,
  us,
  yes,
} from "../lib/scenario.js";
import { describeTally } from "../lib/stats.js";
import { type FaultServer, ROOT, supportsFlag } from "../lib/server.js";
import { CALC_TRAFFIC } from "./conns.js";

export interface SlowlorisParams {
  conns: number;
  /** Bytes each connection sends at once to start its line (then one a drip). */
  startBytes: number;
  /** `--line-timeout` given to the server, seconds (when the build has the flag). */
  lineTimeoutSeconds: number;
  /** Milliseconds between two bytes of a slowloris line (below any idle timeout). */
  dripMs: number;
  /** Legitimate connections, one request in flight each, and how long they are measured. */
  legitConns: number;
  legitSeconds: number;
  /** How long past 1.5 x the line timeout to wait for the server to close them, ms. */
  slackMs: number;
  timeoutMs: number;
}

export interface LegitFigures {
  replies: number;
  p50Us: number;
  p99Us: number;
  errors: number;
}

export interface SlowlorisFigures extends Checked {
  conns: number;
  startBytes: number;
  /** Whether the server build has `--line-timeout`. */
  lineTimeoutFlag: boolean;
  lineTimeoutSeconds: number;
  connected: number;
  reclaimed: number;
  stillOpen: number;
  /** How the server closed them (`eof`, `reset`) and what it sent them (digits as N). */
  how: Record<string, number>;
  replies: Record<string, number>;
  reclaimMs: { min: number; p50: number; max: number };
  baseline: LegitFigures;
  underAttack: LegitFigures;
  fdsBefore: number;
  fdsHeld: number;
  fdsAfter: number;
  rssBeforeKb: number;
  rssHeldKb: number;
  rssAfterKb: number;
  serverAlive: boolean;
  probeAnswered: boolean;
}

interface DoneEvent {
  event: "done";
  connected: number;
  reclaimed: number;
  stillOpen: number;
  how: Record<string, number>;
  replies: Record<string, number>;
  reclaimMs: { min: number; p50: number; max: number };
}

function legit(load: LoadResult): LegitFigures {
  return {
    replies: load.ok ? load.replies : 0,
    p50Us: load.ok ? load.p50_us : Number.NaN,
    p99Us: load.ok ? load.p99_us : Number.NaN,
    errors: (load.conn_errors ?? 0) + (load.bad_replies ?? 0) + (load.ok ? 0 : 1),
  };
}

function measureLegit(binary: string, server: FaultServer, p: SlowlorisParams) {
  return runLoad({
    binary,
    port: server.port,
    cpu: null,
    mode: "lines",
    conns: p.legitConns,
    pipeline: 1,
    duration: p.legitSeconds,
    warmup: 0.1,
    traffic: CALC_TRAFFIC,
  }).then(legit);
}

/** Runs the scenario; see the module comment. */
export function slowloris(p: SlowlorisParams): Promise<SlowlorisFigures> {
  return withinLab("slowloris", p.timeoutMs, async (lab) => {
    const binary = buildLoadgen(ROOT);
    const lineTimeoutFlag = supportsFlag("calc-server", "--line-timeout");
    const args = lineTimeoutFlag ? ["--line-timeout", String(p.lineTimeoutSeconds)] : [];
    const server = await lab.server({ app: "calc-server", args });
    const fdsBefore = server.fdCount();
    const rssBeforeKb = server.rssKb();
    const baseline = await measureLegit(binary, server, p);
    // The server checks lines every timeout/2: a close may come 1.5 x the timeout after the line began.
    const maxMs = p.lineTimeoutSeconds * 1500 + p.slackMs;
    const client = lab.client("slowloris", {
      port: server.port,
      conns: p.conns,
      prefix: "1".repeat(p.startBytes),
      dripMs: p.dripMs,
      maxMs,
    });
    const ready = await client.next<{ connected: number }>("ready", 60_000);
    // Connected is not yet accepted: give the server a moment to take them all.
    const heldBy = performance.now() + 3000;
    while (server.fdCount() < fdsBefore + ready.connected && performance.now() < heldBy) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const fdsHeld = server.fdCount();
    const rssHeldKb = server.rssKb();
    const underAttack = await measureLegit(binary, server, p);
    const done = await client.next<DoneEvent>("done", maxMs + 30_000);
    const fdsAfter = await settleFds(server.pid, fdsBefore, 10_000);
    const probeAnswered = await probe("calc-server", server.port);
    const f: SlowlorisFigures = {
      conns: p.conns,
      startBytes: p.startBytes,
      lineTimeoutFlag,
      lineTimeoutSeconds: p.lineTimeoutSeconds,
      connected: done.connected,
      reclaimed: done.reclaimed,
      stillOpen: done.stillOpen,
      how: done.how,
      replies: done.replies,
      reclaimMs: done.reclaimMs,
      baseline,
      underAttack,
      fdsBefore,
      fdsHeld,
      fdsAfter,
      rssBeforeKb,
      rssHeldKb,
      rssAfterKb: server.rssKb(),
      serverAlive: server.alive,
      probeAnswered,
      problems: [],
    };
    f.problems = check(f);
    return f;
  });
}

function check(f: SlowlorisFigures): string[] {
  const problems: string[] = [];
  if (!f.lineTimeoutFlag) problems.push("the server has no --line-timeout flag");
  if (f.connected !== f.conns) problems.push(`only ${f.connected} of ${f.conns} connected`);
  if (f.reclaimed !== f.connected) {
    problems.push(
      `${f.stillOpen} of ${f.connected} slowloris connections still open ` +
        `1.5 x ${f.lineTimeoutSeconds} s + slack after their line started`,
    );
  }
  if (f.baseline.errors > 0 || f.underAttack.errors > 0) {
    problems.push("the legitimate client saw errors");
  }
  if (!f.serverAlive) problems.push("the server died");
  if (!f.probeAnswered) problems.push("a fresh client was not answered afterwards");
  if (f.reclaimed === f.connected && !(f.fdsAfter <= f.fdsBefore + 2)) {
    problems.push(`descriptors not released: ${f.fdsBefore} before, ${f.fdsAfter} after`);
  }
  return problems;
}

function rows(f: SlowlorisFigures): Row[] {
  const setting = f.lineTimeoutFlag
    ? `--line-timeout ${f.lineTimeoutSeconds}`
    : "no --line-timeout flag";
  const r = f.reclaimMs;
  const perConn = ((f.rssHeldKb - f.rssBeforeKb) * 1024) / f.conns / 1000;
  return [
    {
      figure: "slowloris connections (then 1 byte/s, no \\n)",
      value: `${int(f.connected)} of ${int(f.conns)}, each starting with ${bytes(f.startBytes)} (${setting})`,
    },
    { figure: "reclaimed by the server", value: `${int(f.reclaimed)} (${describeTally(f.how)})` },
    {
      figure: "reclaimed after min / p50 / max",
      value: `${ms(r.min)} / ${ms(r.p50)} / ${ms(r.max)}`,
    },
    { figure: "what they received", value: describeTally(f.replies, 3) },
    {
      figure: "legit p50 / p99 baseline (alone)",
      value: `${us(f.baseline.p50Us)} / ${us(f.baseline.p99Us)}`,
    },
    {
      figure: "legit p50 / p99 beside the slowloris",
      value: `${us(f.underAttack.p50Us)} / ${us(f.underAttack.p99Us)}`,
    },
    {
      figure: "legit replies / errors (baseline, beside)",
      value: `${int(f.baseline.replies)} / ${f.baseline.errors}, ${int(f.underAttack.replies)} / ${f.underAttack.errors}`,
    },
    {
      figure: "server fds before / held / after",
      value: `${f.fdsBefore} / ${int(f.fdsHeld)} / ${f.fdsAfter}`,
    },
    {
      figure: "server RSS before / held (per conn) / after",
      value: `${mib(f.rssBeforeKb)} / ${mib(f.rssHeldKb)} (${perConn.toFixed(1)} KB) / ${mib(f.rssAfterKb)}`,
    },
    {
      figure: "server alive, fresh client answered",
      value: `${yes(f.serverAlive)}, ${yes(f.probeAnswered)}`,
    },
  ];
}

export const slowlorisScenario: Scenario<SlowlorisParams, SlowlorisFigures> = {
  name: "slowloris",
  summary: "lines that never end, one byte a second; a legitimate client beside them",
  full: {
    conns: 2_000,
    startBytes: 2,
    lineTimeoutSeconds: 10,
    dripMs: 1000,
    legitConns: 50,
    legitSeconds: 2,
    slackMs: 5_000,
    timeoutMs: 90_000,
  },
  quick: {
    conns: 500,
    startBytes: 2,
    lineTimeoutSeconds: 3,
    dripMs: 500,
    legitConns: 20,
    legitSeconds: 1,
    slackMs: 3_000,
    timeoutMs: 45_000,
  },
  run: slowloris,
  rows,
};

export const slowlorisFatScenario: Scenario<SlowlorisParams, SlowlorisFigures> = {
  name: "slowloris/fat",
  summary: "the same, each line starting with 64 KiB - 64 bytes (just under --max-line)",
  // 64 bytes of room for the drips: the line stays under the limit until it is reclaimed.
  full: { ...slowlorisScenario.full, startBytes: 65_472 },
  quick: { ...slowlorisScenario.quick, startBytes: 65_472 },
  run: slowloris,
  rows,
};
