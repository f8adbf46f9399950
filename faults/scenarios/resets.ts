/**
 * `resets`: N connections (a client process, 200 at a time) each send a burst
 * of requests and abort with a RST (SO_LINGER 0) while the server reads or
 * writes. The server should log nothing alarming, leak no descriptor and no
 * memory, and go on answering.
 *
 * @module
 */

import { withinLab } from "../lib/lab.js";
import { PROBES, probe } from "../lib/net.js";
import { Sampler, settleFds } from "../lib/sampler.js";
import {
  aftermathRows,
  bytes,
  type Checked,
  int,
  ms,
  type Row,
  type Scenario,
  yes,
} from "../lib/scenario.js";
import type { ServerApp } from "../lib/server.js";

export interface ResetsParams {
  app: Extract<ServerApp, "calc-server" | "echo-server">;
  conns: number;
  parallel: number;
  payloadBytes: number;
  timeoutMs: number;
}

export interface ResetsFigures extends Checked {
  app: string;
  conns: number;
  payloadBytes: number;
  resetAfterReply: number;
  resetMidSend: number;
  connectErrors: number;
  closedByServer: number;
  clientMs: number;
  /** Lines the server logged at error level meanwhile. */
  serverErrors: number;
  serverErrorSample: string[];
  fdsBefore: number;
  fdsPeak: number;
  fdsAfter: number;
  rssBeforeKb: number;
  rssPeakKb: number;
  rssAfterKb: number;
  serverAlive: boolean;
  probeAnswered: boolean;
}

interface DoneEvent {
  resetAfterReply: number;
  resetMidSend: number;
  connectErrors: number;
  closedByServer: number;
  ms: number;
}

/** Runs the scenario; see the module comment. */
export function resets(p: ResetsParams): Promise<ResetsFigures> {
  return withinLab(`resets/${p.app}`, p.timeoutMs, async (lab) => {
    const server = await lab.server({ app: p.app });
    const fdsBefore = server.fdCount();
    const rssBeforeKb = server.rssKb();
    const errorsBefore = server.logCounts.errors;
    const sampler = new Sampler(server.pid, 100);
    const client = lab.client("resets", {
      port: server.port,
      conns: p.conns,
      parallel: p.parallel,
      payload: p.app === "calc-server" ? "calc" : "echo",
      payloadBytes: p.payloadBytes,
      skipBytes: PROBES[p.app].welcome.length,
    });
    const done = await client.next<DoneEvent>("done", p.timeoutMs);
    const fdsAfter = await settleFds(server.pid, fdsBefore, 10_000);
    const peaks = sampler.stop();
    const probeAnswered = await probe(p.app, server.port);
    const f: ResetsFigures = {
      app: p.app,
      conns: p.conns,
      payloadBytes: p.payloadBytes,
      resetAfterReply: done.resetAfterReply,
      resetMidSend: done.resetMidSend,
      connectErrors: done.connectErrors,
      closedByServer: done.closedByServer,
      clientMs: done.ms,
      serverErrors: server.logCounts.errors - errorsBefore,
      serverErrorSample: server.stderrLines.filter((l) => l.includes(" ERROR: ")).slice(0, 3),
      fdsBefore,
      fdsPeak: peaks.fds,
      fdsAfter,
      rssBeforeKb,
      rssPeakKb: peaks.rssKb,
      rssAfterKb: server.rssKb(),
      serverAlive: server.alive,
      probeAnswered,
      problems: [],
    };
    f.problems = check(f);
    return f;
  });
}

function check(f: ResetsFigures): string[] {
  const problems: string[] = [];
  const resetCount = f.resetAfterReply + f.resetMidSend;
  if (resetCount + f.closedByServer + f.connectErrors !== f.conns) {
    problems.push(
      `the client accounted for ${resetCount + f.closedByServer + f.connectErrors} of ${f.conns}`,
    );
  }
  if (f.connectErrors > 0) problems.push(`${f.connectErrors} connections failed to connect`);
  if (f.serverErrors > 0) {
    problems.push(
      `the server logged ${f.serverErrors} errors, first: ${f.serverErrorSample[0] ?? ""}`,
    );
  }
  if (!f.serverAlive) problems.push("the server died");
  if (!f.probeAnswered) problems.push("a fresh client was not answered afterwards");
  if (!(f.fdsAfter <= f.fdsBefore))
    problems.push(`descriptors: ${f.fdsBefore} before, ${f.fdsAfter} after`);
  return problems;
}

function rows(f: ResetsFigures): Row[] {
  return [
    {
      figure: `connections reset (RST) after a ${bytes(f.payloadBytes)} burst`,
      value: `${int(f.resetAfterReply + f.resetMidSend)} of ${int(f.conns)} in ${ms(f.clientMs)}`,
    },
    {
      figure: "... while the server wrote replies / while it read",
      value: `${int(f.resetAfterReply)} / ${int(f.resetMidSend)}`,
    },
    {
      figure: "closed by the server first / connect errors",
      value: `${int(f.closedByServer)} / ${int(f.connectErrors)}`,
    },
    ...aftermathRows(f),
    { figure: "fresh client answered afterwards", value: yes(f.probeAnswered) },
  ];
}

export const resetsCalcScenario: Scenario<ResetsParams, ResetsFigures> = {
  name: "resets/calc",
  summary: "calculator: bursts of 2,048 lines, each connection reset (SO_LINGER 0) mid-write",
  full: {
    app: "calc-server",
    conns: 10_000,
    parallel: 200,
    payloadBytes: 8192,
    timeoutMs: 120_000,
  },
  quick: { app: "calc-server", conns: 2_000, parallel: 200, payloadBytes: 8192, timeoutMs: 45_000 },
  run: resets,
  rows,
};

export const resetsEchoScenario: Scenario<ResetsParams, ResetsFigures> = {
  name: "resets/echo",
  summary: "echo server: 64 KiB bursts, each connection reset (SO_LINGER 0) mid-write",
  full: {
    app: "echo-server",
    conns: 10_000,
    parallel: 200,
    payloadBytes: 65_536,
    timeoutMs: 120_000,
  },
  quick: {
    app: "echo-server",
    conns: 2_000,
    parallel: 200,
    payloadBytes: 65_536,
    timeoutMs: 45_000,
  },
  run: resets,
  rows,
};
