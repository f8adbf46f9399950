/**
 * `conns`: N concurrent connections to the calculator from the benchmark's
 * native load generator (another process). First N idle connections, each
 * answered once, are held while the server's sockets are counted, then let go.
 * Then the load: each connection is opened and answered once while all the
 * earlier ones stay open; then all N keep one request in flight for a while;
 * then they half-close.
 *
 * @module
 */

import { buildLoadgen, holdIdle, runLoad } from "../../bench/lib/loadgen.js";
import { withinLab } from "../lib/lab.js";
import { probe } from "../lib/net.js";
import { Sampler, settleFds } from "../lib/sampler.js";
import { type Checked, int, mib, type Row, type Scenario, us, yes } from "../lib/scenario.js";
import { ROOT } from "../lib/server.js";

export interface ConnsParams {
  conns: number;
  /** Seconds all of them keep a request in flight. */
  holdSeconds: number;
  /** Hard limit of the whole run, ms. */
  timeoutMs: number;
}

export interface ConnsFigures extends Checked {
  conns: number;
  /** Connections that were open at once and answered (the load generator's count). */
  answered: number;
  /** Replies while all were open, and their latency. */
  replies: number;
  p50Us: number;
  p99Us: number;
  badReplies: number;
  connErrors: number;
  /**
   * Connections still open when the load generator stopped waiting, 1 s after its
   * EOF. Not a figure of the table: answering the last requests and closing 10,000
   * connections takes the server about that long (~80 µs a close), so it is noise.
   */
  uncleanClose: number;
  connectMs: number;
  /**
   * Sockets the server held before, and while the N idle connections were all open
   * and answered: counted at a moment the scenario controls, not sampled.
   */
  socketsBefore: number;
  socketsHeld: number;
  /** Idle connections the load generator held (its count), or its error. */
  heldConnected: number;
  holdError?: string;
  fdsBefore: number;
  /** Sampled during the load: a table figure, not a check (a sample may miss the top). */
  fdsPeak: number;
  fdsAfter: number;
  rssBeforeKb: number;
  rssPeakKb: number;
  serverAlive: boolean;
  probeAnswered: boolean;
  loadgenError?: string;
}

/** The calculator's request and reply for the load generator; its welcome is skipped. */
export const CALC_TRAFFIC = {
  send: "12,34,56",
  expect: "Sum of input numbers: '102'\r",
  skipLines: 1,
};

/** Runs the scenario; see the module comment. */
export function conns(params: ConnsParams): Promise<ConnsFigures> {
  return withinLab("conns", params.timeoutMs, async (lab) => {
    const binary = buildLoadgen(ROOT);
    const server = await lab.server({ app: "calc-server" });
    const fdsBefore = server.fdCount();
    const rssBeforeKb = server.rssKb();
    const socketsBefore = server.socketCount();
    const hold = await holdIdle(binary, server.port, null, params.conns, CALC_TRAFFIC);
    // Every held connection has had its reply, so the server has accepted each one.
    const socketsHeld = server.socketCount();
    await hold.release();
    // The load starts from a server that has let the idle ones go.
    await settleFds(server.pid, fdsBefore, 10_000);
    const sampler = new Sampler(server.pid, 100);
    const load = await runLoad({
      binary,
      port: server.port,
      cpu: null,
      mode: "lines",
      conns: params.conns,
      pipeline: 1,
      duration: params.holdSeconds,
      warmup: 0,
      traffic: CALC_TRAFFIC,
    });
    const peaks = sampler.stop();
    const fdsAfter = await settleFds(server.pid, fdsBefore, 10_000);
    const probeAnswered = await probe("calc-server", server.port);
    const f: ConnsFigures = {
      conns: params.conns,
      answered: load.ok ? params.conns : 0,
      replies: load.replies ?? 0,
      p50Us: load.p50_us ?? Number.NaN,
      p99Us: load.p99_us ?? Number.NaN,
      badReplies: load.bad_replies ?? 0,
      connErrors: load.conn_errors ?? 0,
      uncleanClose: load.unclean_close ?? 0,
      connectMs: load.connect_ms ?? Number.NaN,
      socketsBefore,
      socketsHeld,
      heldConnected: hold.result.connected,
      holdError: hold.result.ok ? undefined : hold.result.error,
      fdsBefore,
      fdsPeak: peaks.fds,
      fdsAfter,
      rssBeforeKb,
      rssPeakKb: peaks.rssKb,
      serverAlive: server.alive,
      probeAnswered,
      loadgenError: load.ok ? undefined : load.error,
      problems: [],
    };
    f.problems = check(f);
    return f;
  });
}

function check(f: ConnsFigures): string[] {
  const problems: string[] = [];
  if (f.loadgenError !== undefined) problems.push(`load generator: ${f.loadgenError}`);
  if (f.answered !== f.conns) problems.push(`only ${f.answered} of ${f.conns} answered`);
  if (f.badReplies > 0) problems.push(`${f.badReplies} wrong replies`);
  if (f.connErrors > 0) problems.push(`${f.connErrors} connection errors`);
  if (!f.serverAlive) problems.push("the server died");
  if (!f.probeAnswered) problems.push("a fresh client was not answered afterwards");
  if (f.holdError !== undefined) problems.push(`load generator (idle): ${f.holdError}`);
  if (f.socketsHeld < f.socketsBefore + f.conns) {
    problems.push(
      `${f.heldConnected} idle connections held, but the server had ${f.socketsHeld} sockets ` +
        `(${f.socketsBefore} before)`,
    );
  }
  if (!(f.fdsAfter <= f.fdsBefore + 2)) {
    problems.push(`descriptors not released: ${f.fdsBefore} before, ${f.fdsAfter} after`);
  }
  return problems;
}

function rows(f: ConnsFigures): Row[] {
  const perConn = ((f.rssPeakKb - f.rssBeforeKb) * 1024) / f.conns / 1000;
  return [
    {
      figure: "connections open at once, each answered",
      value: `${int(f.answered)} of ${int(f.conns)}`,
    },
    { figure: "time to open and answer them all", value: `${int(f.connectMs)} ms` },
    { figure: "replies while all open (1 in flight each)", value: int(f.replies) },
    { figure: "latency p50 / p99 while all open", value: `${us(f.p50Us)} / ${us(f.p99Us)}` },
    {
      figure: "wrong replies / connection errors",
      value: `${int(f.badReplies)} / ${int(f.connErrors)}`,
    },
    {
      figure: "server sockets before / with all held idle",
      value: `${f.socketsBefore} / ${int(f.socketsHeld)}`,
    },
    {
      figure: "server fds before / sampled peak / after",
      value: `${f.fdsBefore} / ${int(f.fdsPeak)} / ${f.fdsAfter}`,
    },
    {
      figure: "server RSS before / peak (per conn)",
      value: `${mib(f.rssBeforeKb)} / ${mib(f.rssPeakKb)} (${perConn.toFixed(1)} KB)`,
    },
    {
      figure: "server alive, fresh client answered",
      value: `${yes(f.serverAlive)}, ${yes(f.probeAnswered)}`,
    },
  ];
}

export const connsScenario: Scenario<ConnsParams, ConnsFigures> = {
  name: "conns",
  summary: "concurrent connections held, every one answered (native load generator)",
  full: { conns: 10_000, holdSeconds: 2, timeoutMs: 90_000 },
  quick: { conns: 2_000, holdSeconds: 1, timeoutMs: 45_000 },
  run: conns,
  rows,
};
