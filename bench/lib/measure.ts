/**
 * One measurement: a fresh server process for one scenario and one peer, the load
 * generator against it, the server stopped. Every step is bounded in time; any
 * failure comes back as a reason, never as a crash of the runner.
 */

import { readFileSync } from "node:fs";
import { holdIdle, runLoad } from "./loadgen.js";
import type { PeerCommand } from "./peers.js";
import { IDLE_TRAFFIC, type Scenario, TRAFFIC } from "./scenarios.js";
import { pickPort, ServerProcess, sleep } from "./server.js";

export interface Sample {
  round: number;
  /** In the scenario's unit. */
  value: number;
  p50Us: number | null;
  p99Us: number | null;
  p999Us: number | null;
  /** Load generator's CPU use while measuring, 0–1: near 1 would mean it was the bottleneck. */
  loadgenCpu: number | null;
  /** Server CPU use over the whole load run (connect, warm-up, measurement, close), 0–1. */
  serverCpu: number | null;
  /** CPUs kept busy by everything else on the machine meanwhile (0 on a quiet machine). */
  otherCpu: number | null;
  /** The load generator's own report, plus RSS readings for idle runs. */
  raw: Record<string, unknown>;
}

export type Outcome =
  { ok: true; sample: Sample } | { ok: false; reason: string; startup: boolean };

export interface MeasureContext {
  loadgen: string;
  serverCpu: number | null;
  loadgenCpu: number | null;
  duration: number;
  warmup: number;
  idleConns: number;
  /** Extra seconds before an idle server's RSS is read. */
  idleSettle: number;
  round: number;
}

/** CPU seconds spent busy by the whole machine so far, from /proc/stat. */
function machineBusySeconds(): number {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]?.trim().split(/\s+/) ?? [];
    const ticks = fields.slice(1, 9).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / 100;
  } catch {
    return Number.NaN;
  }
}

function problems(r: {
  ok: boolean;
  error?: string;
  bad_replies: number;
  conn_errors: number;
}): string | null {
  if (r.bad_replies > 0) return `${r.bad_replies} replies differ from the expected line`;
  if (r.conn_errors > 0) return `${r.conn_errors} connections failed or were closed by the server`;
  if (!r.ok) return `load generator: ${r.error ?? "not every connection got its reply"}`;
  return null;
}

async function measureLoad(
  s: Scenario,
  server: ServerProcess,
  ctx: MeasureContext,
): Promise<Outcome> {
  const cpu0 = server.cpuSeconds();
  const busy0 = machineBusySeconds();
  const t0 = performance.now();
  const r = await runLoad({
    binary: ctx.loadgen,
    port: server.port,
    cpu: ctx.loadgenCpu,
    mode: s.kind === "bulk" ? "bulk" : "lines",
    conns: s.conns,
    pipeline: s.pipeline,
    duration: ctx.duration,
    warmup: ctx.warmup,
    traffic: TRAFFIC[s.app],
  });
  const wall = (performance.now() - t0) / 1000;
  const serverCpu = (server.cpuSeconds() - cpu0) / wall;
  const otherCpu = (machineBusySeconds() - busy0) / wall - serverCpu - r.cpu_frac;
  const problem = problems(r) ?? (r.replies > 0 ? null : "no replies within the run");
  // A server that died explains the problem better than the load generator can.
  if (problem !== null) await sleep(100);
  const gone = server.exitReason;
  if (gone !== null) return { ok: false, reason: `server ${gone}`, startup: false };
  if (problem !== null) return { ok: false, reason: problem, startup: false };
  return {
    ok: true,
    sample: {
      round: ctx.round,
      value: s.kind === "bulk" ? r.mbps : r.rps,
      p50Us: r.p50_us,
      p99Us: r.p99_us,
      p999Us: r.p999_us,
      loadgenCpu: r.cpu_frac,
      serverCpu: Number.isFinite(serverCpu) ? Math.min(1, serverCpu) : null,
      otherCpu: Number.isFinite(otherCpu) ? Math.max(0, otherCpu) : null,
      raw: { ...r },
    },
  };
}

async function measureIdle(
  s: Scenario,
  server: ServerProcess,
  ctx: MeasureContext,
): Promise<Outcome> {
  await sleep(200);
  const before = server.rssKb();
  const hold = await holdIdle(
    ctx.loadgen,
    server.port,
    ctx.loadgenCpu,
    ctx.idleConns,
    IDLE_TRAFFIC[s.app],
  );
  try {
    const problem = problems(hold.result);
    if (problem !== null) return { ok: false, reason: problem, startup: false };
    // Let the server finish whatever its accepts left over before reading its size.
    await sleep(500);
    let after = server.rssKb();
    // Settling: V8 hands memory back when its heuristics say so, not at a set time,
    // so the smallest size seen, once a second, is the settled one.
    for (let waited = 0; waited < ctx.idleSettle && server.exitReason === null; waited++) {
      await sleep(Math.min(1, ctx.idleSettle - waited) * 1000);
      if (server.exitReason === null) after = Math.min(after, server.rssKb());
    }
    if (server.exitReason !== null) {
      return { ok: false, reason: `server ${server.exitReason}`, startup: false };
    }
    return {
      ok: true,
      sample: {
        round: ctx.round,
        value: (after - before) / ctx.idleConns,
        p50Us: null,
        p99Us: null,
        p999Us: null,
        loadgenCpu: null,
        serverCpu: null,
        otherCpu: null,
        raw: { ...hold.result, rssBeforeKb: before, rssAfterKb: after },
      },
    };
  } finally {
    // The server goes first, so that it never has 10,000 closes to log.
    await server.stop();
    await hold.release();
  }
}

/** Runs scenario `s` once against a fresh server started with `cmd`. */
export async function measure(
  s: Scenario,
  cmd: PeerCommand,
  ctx: MeasureContext,
): Promise<Outcome> {
  let server: ServerProcess;
  try {
    server = new ServerProcess(cmd, await pickPort(), ctx.serverCpu);
  } catch (error) {
    return { ok: false, reason: (error as Error).message, startup: true };
  }
  try {
    try {
      await server.waitListening(5000);
    } catch (error) {
      return { ok: false, reason: (error as Error).message, startup: true };
    }
    return s.kind === "idle"
      ? await measureIdle(s, server, ctx)
      : await measureLoad(s, server, ctx);
  } catch (error) {
    return { ok: false, reason: (error as Error).message, startup: false };
  } finally {
    await server.stop();
  }
}
