/**
 * `sigterm`: SIGTERM while N connections pipeline numbered lines at a line
 * server (a client process), optionally beside connections that never read
 * (they cannot finish, so only `--grace` ends them). Two loads: a burst (each
 * connection writes `burst` lines at once and the signal follows as soon as
 * they are in the kernel, most of them not yet read by the server), or a
 * window of `depth` lines in flight, still pipelining when the signal comes,
 * up to `lines` per connection.
 *
 * Lost replies, precisely: just before the signal the runner asks the client
 * to mark, per connection, how many lines it has written into the kernel
 * (write completed). Only after the client said so is SIGTERM sent, so every
 * one of those lines reached the server's machine before the signal. A line
 * counted at the mark that never gets its reply is lost: lost = Σ over
 * connections of max(0, marked − replies received). Lines written after the
 * mark are answered too while the client keeps the connection busy (the
 * server reads on until the input is quiet); they are counted apart.
 * Replies are checked in order against their lines, so a reply that comes is
 * the right one.
 *
 * Idle connections, when asked for, are held by the native load generator
 * (one exchange each, then silence; it does not answer the server's FIN, so
 * each close lingers until the server gives up on it).
 *
 * @module
 */

import { buildLoadgen, holdIdle, type IdleHold } from "../../bench/lib/loadgen.js";
import { flood } from "../lib/flood.js";
import { withinLab } from "../lib/lab.js";
import { connect } from "../lib/net.js";
import { type Checked, int, ms, type Row, type Scenario, yes } from "../lib/scenario.js";
import { describeTally } from "../lib/stats.js";
import { type Exit, ROOT } from "../lib/server.js";
import { CALC_TRAFFIC } from "./conns.js";

export interface SigtermParams {
  app: "calc-server" | "line-echo-server";
  conns: number;
  depth: number;
  /** Lines each connection writes in all (the window's end); 0: no limit. */
  lines: number;
  /** Lines each connection writes at once just before the signal; 0: none. */
  burst: number;
  /** Load before the signal, ms. */
  warmMs: number;
  /** Connections that pipeline and never read; 0 for none. */
  stuckConns: number;
  /** Idle calculator connections held open by the load generator; 0 for none. */
  idleConns: number;
  /** `--grace` given to the server, seconds. */
  graceSeconds: number;
  timeoutMs: number;
}

export interface SigtermFigures extends Checked {
  app: string;
  conns: number;
  depth: number;
  burst: number;
  stuckConns: number;
  idleConns: number;
  graceSeconds: number;
  exitCode: number | null;
  exitSignal: string | null;
  timeToExitMs: number;
  sentAtMark: number;
  replies: number;
  lost: number;
  connsLosing: number;
  answeredAfterMark: number;
  unansweredAfterMark: number;
  bad: number;
  partialBytes: number;
  endings: Record<string, number>;
  /** What the server logged while stopping (info and above). */
  stopLog: string[];
}

interface DoneEvent {
  sentAtMark: number;
  replies: number;
  lost: number;
  connsLosing: number;
  answeredAfterMark: number;
  unansweredAfterMark: number;
  bad: number;
  partialBytes: number;
  endings: Record<string, number>;
}

/** Runs the scenario; see the module comment. */
export function sigterm(p: SigtermParams): Promise<SigtermFigures> {
  return withinLab(`sigterm/${p.app}`, p.timeoutMs, async (lab) => {
    const server = await lab.server({ app: p.app, args: ["--grace", String(p.graceSeconds)] });
    const logStart = server.stderrLines.length;
    const stuck = await Promise.all(
      Array.from({ length: p.stuckConns }, async () => {
        const socket = lab.socket(await connect(server.port));
        socket.pause();
        socket.on("error", () => {});
        return socket;
      }),
    );
    // Each stuck connection fills its buffers both ways, then stalls.
    const stuckLines = Buffer.from("7\n".repeat(1 << 19), "latin1");
    await Promise.all(stuck.map((s) => flood(s, 1 << 30, stuckLines, 500)));
    let idle: IdleHold | undefined;
    if (p.idleConns > 0) {
      if (p.app !== "calc-server")
        throw new Error("Cannot hold idle connections: calc-server only");
      idle = await holdIdle(buildLoadgen(ROOT), server.port, null, p.idleConns, CALC_TRAFFIC);
      if (!idle.result.ok) throw new Error(`Cannot hold idle connections: ${idle.result.error}`);
    }
    let exit: Exit;
    let timeToExitMs: number;
    let done: DoneEvent;
    try {
      const client = lab.client("pipeline", {
        port: server.port,
        conns: p.conns,
        depth: p.depth,
        lines: p.lines,
        burst: p.burst,
        app: p.app,
        maxMs: p.graceSeconds * 1000 + 20_000,
      });
      await client.next("ready", 30_000);
      await new Promise((resolve) => setTimeout(resolve, p.warmMs));
      client.send("mark");
      await client.next("mark", 10_000);
      const signalledAt = performance.now();
      server.signal("SIGTERM");
      exit = await server.exited;
      timeToExitMs = exit.at - signalledAt;
      done = await client.next<DoneEvent>("done", p.graceSeconds * 1000 + 30_000);
    } finally {
      await idle?.release();
    }
    const f: SigtermFigures = {
      app: p.app,
      conns: p.conns,
      depth: p.depth,
      burst: p.burst,
      stuckConns: p.stuckConns,
      idleConns: p.idleConns,
      graceSeconds: p.graceSeconds,
      exitCode: exit.code,
      exitSignal: exit.signal,
      timeToExitMs,
      ...done,
      stopLog: server.stderrLines.slice(logStart).slice(0, 10),
      problems: [],
    };
    f.problems = check(f);
    return f;
  });
}

function check(f: SigtermFigures): string[] {
  const problems: string[] = [];
  if (f.exitCode !== 0) problems.push(`exit code ${f.exitCode ?? f.exitSignal}, not 0`);
  if (f.lost > 0) {
    problems.push(
      `${f.lost} replies lost on ${f.connsLosing} connections (lines written before the signal)`,
    );
  }
  if (f.bad > 0) problems.push(`${f.bad} wrong replies`);
  if (f.partialBytes > 0) problems.push(`${f.partialBytes} bytes of replies cut short`);
  const unclean = Object.entries(f.endings).filter(([k]) => k !== "eof");
  if (unclean.length > 0)
    problems.push(`connections not ended by EOF: ${describeTally(Object.fromEntries(unclean))}`);
  return problems;
}

function rows(f: SigtermFigures): Row[] {
  const load =
    (f.burst > 0
      ? `${int(f.conns)} conns × ${int(f.burst)} lines at once`
      : `${int(f.conns)} conns × ${f.depth} in flight`) +
    (f.stuckConns > 0 ? ` + ${f.stuckConns} never reading` : "") +
    (f.idleConns > 0 ? ` + ${int(f.idleConns)} idle` : "");
  return [
    { figure: "load at the signal", value: `${load}, --grace ${f.graceSeconds}` },
    {
      figure: "exit code, time from SIGTERM to exit",
      value: `${f.exitCode ?? f.exitSignal}, ${ms(f.timeToExitMs)}`,
    },
    {
      figure: "lines written before the signal / answered",
      value: `${int(f.sentAtMark)} / ${int(f.sentAtMark - f.lost)}`,
    },
    {
      figure: "replies lost (written before, never answered)",
      value: `${int(f.lost)} (on ${int(f.connsLosing)} conns)`,
    },
    {
      figure: "written after the signal: answered / not",
      value: `${int(f.answeredAfterMark)} / ${int(f.unansweredAfterMark)}`,
    },
    {
      figure: "wrong replies / cut replies (bytes)",
      value: `${int(f.bad)} / ${int(f.partialBytes)}`,
    },
    {
      figure: "how the pipelining connections ended",
      value: `${describeTally(f.endings)}; clean: ${yes(Object.keys(f.endings).every((k) => k === "eof"))}`,
    },
  ];
}

export const sigtermScenario: Scenario<SigtermParams, SigtermFigures> = {
  name: "sigterm",
  summary: "SIGTERM right after connections each wrote a burst of lines to the calculator",
  full: {
    app: "calc-server",
    conns: 100,
    depth: 16,
    lines: 0,
    burst: 20_000,
    warmMs: 1000,
    stuckConns: 0,
    idleConns: 0,
    graceSeconds: 10,
    timeoutMs: 60_000,
  },
  quick: {
    app: "calc-server",
    conns: 50,
    depth: 16,
    lines: 0,
    burst: 10_000,
    warmMs: 500,
    stuckConns: 0,
    idleConns: 0,
    graceSeconds: 10,
    timeoutMs: 30_000,
  },
  run: sigterm,
  rows,
};

export const sigtermPipeliningScenario: Scenario<SigtermParams, SigtermFigures> = {
  name: "sigterm/pipelining",
  summary: "SIGTERM while connections are still pipelining (a window of lines in flight)",
  full: { ...sigtermScenario.full, burst: 0, lines: 4_000 },
  quick: { ...sigtermScenario.quick, burst: 0, lines: 4_000 },
  run: sigterm,
  rows,
};

export const sigtermStuckScenario: Scenario<SigtermParams, SigtermFigures> = {
  name: "sigterm/stuck",
  summary: "SIGTERM under load plus connections that never read: --grace ends them",
  full: { ...sigtermScenario.full, stuckConns: 5, graceSeconds: 2 },
  quick: { ...sigtermScenario.quick, stuckConns: 5, graceSeconds: 2 },
  run: sigterm,
  rows,
};

export const sigtermIdleScenario: Scenario<SigtermParams, SigtermFigures> = {
  name: "sigterm/idle",
  summary: "SIGTERM under load plus idle connections that ignore the server's FIN",
  full: { ...sigtermScenario.full, idleConns: 10_000 },
  quick: { ...sigtermScenario.quick, idleConns: 2_000 },
  run: sigterm,
  rows,
};
