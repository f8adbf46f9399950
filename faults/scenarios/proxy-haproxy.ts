/**
 * `proxy/haproxy`: the calculator with `--proxy-protocol` behind a real HAProxy
 * (`deploy/haproxy.cfg`, PROXY v2 with LOCAL health checks): rounds of
 * concurrent connections through HAProxy (each round below its `maxconn`
 * 4000), every one answered, none refused by the server, nothing logged at
 * warn or error level. Reported as skipped when haproxy is not installed.
 *
 * The server listens with the accept queue `--proxy-protocol` gives it (4096,
 * see `PROXY_BACKLOG`): with Node's 511 a round's burst of connects from
 * HAProxy could overflow it on a busy machine, and a connection whose first
 * segment the kernel dropped then sent its header only with HAProxy's next
 * retransmission, in one run more than 5 s after the accept (3 header
 * timeouts, 0 bytes each). The kernel's count of overflows during the run is
 * reported (`TcpExt ListenOverflows`: the whole machine's, so other programs'
 * count too).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { buildLoadgen, runLoad } from "../../bench/lib/loadgen.js";
import { findBinary, startHaproxy } from "../../test/helpers/proxies.js";
import { withinLab } from "../lib/lab.js";
import { type Checked, int, type Row, type Scenario, us, yes } from "../lib/scenario.js";
import { ROOT } from "../lib/server.js";
import { CALC_TRAFFIC } from "./conns.js";

export interface ProxyHaproxyParams {
  /** Concurrent connections of one round (below HAProxy's maxconn 4000). */
  conns: number;
  rounds: number;
  /** Hard limit of the whole run, ms. */
  timeoutMs: number;
}

export interface ProxyHaproxyFigures extends Checked {
  skipped?: string;
  connections: number;
  answered: number;
  replies: number;
  p99Us: number;
  badReplies: number;
  connErrors: number;
  serverWarnings: number;
  /** Of those, PROXY header timeouts. */
  headerTimeouts: number;
  /** The kernel's `ListenOverflows` during the run (every listening socket of the machine); -1 when unknown. */
  listenOverflows: number;
  serverAlive: boolean;
  /** HAProxy connections still open 10 s after a round (0 when it drained). */
  leftOpen: number;
}

/** The kernel's `TcpExt ListenOverflows` counter, or undefined off Linux. */
function listenOverflows(): number | undefined {
  try {
    const lines = readFileSync("/proc/net/netstat", "utf8").split("\n");
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = (lines[i] as string).split(" ");
      const values = (lines[i + 1] as string).split(" ");
      const at = names.indexOf("ListenOverflows");
      if (names[0] === "TcpExt:" && at !== -1) return Number(values[at]);
    }
  } catch {
    // Not Linux: the figure is reported as unknown.
  }
  return undefined;
}

/** Waits (bounded) until HAProxy has no connection open; returns how many are left. */
async function drained(stats: (command: string) => Promise<string>, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const open = Number(/^CurrConns: (\d+)$/m.exec(await stats("show info"))?.[1] ?? Number.NaN);
    if (open === 0 || Date.now() > deadline) return open;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs the scenario; see the module comment. */
export function proxyHaproxy(params: ProxyHaproxyParams): Promise<ProxyHaproxyFigures> {
  const binary = findBinary("haproxy");
  const figures: ProxyHaproxyFigures = {
    connections: params.conns * params.rounds,
    answered: 0,
    replies: 0,
    p99Us: 0,
    badReplies: 0,
    connErrors: 0,
    serverWarnings: 0,
    headerTimeouts: 0,
    listenOverflows: -1,
    serverAlive: true,
    leftOpen: 0,
    problems: [],
  };
  if (binary === undefined) {
    return Promise.resolve({ ...figures, skipped: "haproxy is not installed" });
  }
  return withinLab("proxy/haproxy", params.timeoutMs, async (lab) => {
    const loadgen = buildLoadgen(ROOT);
    const server = await lab.server({ app: "calc-server", args: ["--proxy-protocol"] });
    const proxy = await startHaproxy(binary, server.port);
    const overflowsBefore = listenOverflows();
    try {
      for (let round = 0; round < params.rounds; round++) {
        const load = await runLoad({
          binary: loadgen,
          port: proxy.ports.FRONT_V2_PORT as number,
          cpu: null,
          mode: "lines",
          conns: params.conns,
          pipeline: 1,
          duration: 1,
          warmup: 0,
          traffic: CALC_TRAFFIC,
        });
        if (!load.ok) figures.problems.push(`round ${round + 1}: ${load.error}`);
        else figures.answered += params.conns;
        figures.replies += load.replies ?? 0;
        figures.p99Us = Math.max(figures.p99Us, load.p99_us ?? 0);
        figures.badReplies += load.bad_replies ?? 0;
        figures.connErrors += load.conn_errors ?? 0;
        // The next round starts once HAProxy has let this one's connections go:
        // both rounds at once would pass its maxconn.
        figures.leftOpen = Math.max(figures.leftOpen, await drained(proxy.stats, 10_000));
      }
    } finally {
      await proxy.stop();
    }
    const overflowsAfter = listenOverflows();
    if (overflowsBefore !== undefined && overflowsAfter !== undefined)
      figures.listenOverflows = overflowsAfter - overflowsBefore;
    figures.serverAlive = server.alive;
    figures.serverWarnings = server.stderrLines.filter((l) => /: (WARN|ERROR): /.test(l)).length;
    figures.headerTimeouts = server.stderrLines.filter((l) =>
      l.includes("no complete PROXY header"),
    ).length;
    const f = figures;
    if (f.answered !== f.connections)
      problems(f, `only ${f.answered} of ${f.connections} answered`);
    if (f.badReplies > 0) problems(f, `${f.badReplies} wrong replies`);
    if (f.connErrors > 0) problems(f, `${f.connErrors} connection errors`);
    if (f.serverWarnings > 0) problems(f, `${f.serverWarnings} warn/error lines: ${server.tail()}`);
    if (!f.serverAlive) problems(f, "the server died");
    if (f.leftOpen !== 0)
      problems(f, `HAProxy still had ${f.leftOpen} connections 10 s after a round`);
    return f;
  });
}

function problems(f: ProxyHaproxyFigures, problem: string): void {
  f.problems.push(problem);
}

function rows(f: ProxyHaproxyFigures): Row[] {
  if (f.skipped !== undefined) return [{ figure: "skipped", value: f.skipped }];
  return [
    {
      figure: "connections through HAProxy (PROXY v2), answered",
      value: `${int(f.answered)} of ${int(f.connections)}`,
    },
    { figure: "replies, worst round's p99", value: `${int(f.replies)}, ${us(f.p99Us)}` },
    {
      figure: "wrong replies / connection errors",
      value: `${int(f.badReplies)} / ${int(f.connErrors)}`,
    },
    {
      figure: "server warn/error lines, alive",
      value: `${f.serverWarnings}, ${yes(f.serverAlive)}`,
    },
    {
      figure: "header timeouts / kernel listen overflows (machine)",
      value: `${f.headerTimeouts} / ${f.listenOverflows < 0 ? "unknown" : int(f.listenOverflows)}`,
    },
  ];
}

export const proxyHaproxyScenario: Scenario<ProxyHaproxyParams, ProxyHaproxyFigures> = {
  name: "proxy/haproxy",
  summary: "connections through a real HAProxy with PROXY v2, every one answered",
  full: { conns: 2500, rounds: 4, timeoutMs: 120_000 },
  quick: { conns: 500, rounds: 2, timeoutMs: 60_000 },
  run: proxyHaproxy,
  rows,
};
