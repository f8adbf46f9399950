/**
 * `emfile`: the calculator started under a low `ulimit -n` (a shell that
 * execs node), then more connections opened than it has descriptors for. The
 * server must not crash, should report the failed accepts at a bounded rate,
 * and once the connections close must answer new clients again.
 *
 * @module
 */

import type net from "node:net";
import { withinLab } from "../lib/lab.js";
import { connect, LineCollector, PROBES, probe } from "../lib/net.js";
import { settleFds } from "../lib/sampler.js";
import { type Checked, int, ms, type Row, type Scenario, yes } from "../lib/scenario.js";

export interface EmfileParams {
  fdLimit: number;
  conns: number;
  /** How long each connection may take to be welcomed or refused, ms. */
  settleMs: number;
  timeoutMs: number;
}

export interface EmfileFigures extends Checked {
  fdLimit: number;
  conns: number;
  fdsBefore: number;
  /** Most descriptors seen; may count one above the limit that the server inherited. */
  fdsPeak: number;
  /** Connections welcomed, ended by the server unwelcomed, and left hanging. */
  welcomed: number;
  refused: number;
  hanging: number;
  connectFailed: number;
  /** `Cannot accept connection` reports, and the failures they say were not reported one by one. */
  acceptReports: number;
  acceptSuppressed: number;
  acceptSample: string;
  seconds: number;
  aliveUnderPressure: boolean;
  fdsAfter: number;
  /** After every connection closed: a fresh client answered, and how long that took. */
  recovered: boolean;
  recoveryMs: number;
  /** Fresh clients answered afterwards, of 10. */
  answeredAfter: number;
}

// Either an accept error (EMFILE seen by Node) or, since the CLI's default
// --max-connections keeps a reserve below the descriptor limit, a refusal.
const ACCEPT_ERROR =
  /(Cannot accept connection: .*?|refused \d+ connection\(s\).*?)(?: \((\d+) more since the last report\))?$/;

/** Runs the scenario; see the module comment. */
export function emfile(p: EmfileParams): Promise<EmfileFigures> {
  return withinLab("emfile", p.timeoutMs, async (lab) => {
    const server = await lab.server({ app: "calc-server", fdLimit: p.fdLimit });
    const fdsBefore = server.fdCount();
    const started = performance.now();
    const sockets: net.Socket[] = [];
    const collectors: LineCollector[] = [];
    let connectFailed = 0;
    let fdsPeak = fdsBefore;
    for (let i = 0; i < p.conns; i++) {
      try {
        const socket = lab.socket(await connect(server.port, 5000));
        sockets.push(socket);
        collectors.push(new LineCollector(socket));
      } catch {
        connectFailed++;
      }
      fdsPeak = Math.max(fdsPeak, server.fdCount() || 0);
    }
    const settled = (c: LineCollector) => c.lineCount > 0 || c.ending !== "open";
    const deadline = performance.now() + p.settleMs;
    for (const c of collectors)
      await c.until(() => settled(c), Math.max(0, deadline - performance.now()));
    fdsPeak = Math.max(fdsPeak, server.fdCount() || 0);
    const welcomed = collectors.filter((c) => c.lines[0] === PROBES["calc-server"].welcome).length;
    const refused = collectors.filter((c) => c.lineCount === 0 && c.ending !== "open").length;
    const hanging = collectors.filter((c) => !settled(c)).length;
    const aliveUnderPressure = server.alive;
    const seconds = (performance.now() - started) / 1000;
    for (const s of sockets) s.destroy();
    const fdsAfter = await settleFds(server.pid, fdsBefore, 10_000);
    const closedAt = performance.now();
    let recovered = false;
    while (!recovered && performance.now() - closedAt < 10_000) {
      recovered = await probe("calc-server", server.port, 2000);
    }
    const recoveryMs = performance.now() - closedAt;
    let answeredAfter = 0;
    for (let i = 0; i < 10; i++) if (await probe("calc-server", server.port)) answeredAfter++;
    let acceptReports = 0;
    let acceptSuppressed = 0;
    let acceptSample = "";
    for (const line of server.stderrLines) {
      const match = ACCEPT_ERROR.exec(line);
      if (match === null) continue;
      acceptReports++;
      acceptSuppressed += Number(match[2] ?? 0);
      acceptSample ||= match[1] ?? "";
    }
    const f: EmfileFigures = {
      ...{ fdLimit: p.fdLimit, conns: p.conns, fdsBefore, fdsPeak, welcomed, refused, hanging },
      ...{ connectFailed, acceptReports, acceptSuppressed, acceptSample, seconds },
      ...{ aliveUnderPressure, fdsAfter, recovered, recoveryMs, answeredAfter },
      problems: [],
    };
    f.problems = check(f);
    return f;
  });
}

function check(f: EmfileFigures): string[] {
  const problems: string[] = [];
  if (!f.aliveUnderPressure) problems.push("the server died out of descriptors");
  if (f.welcomed + f.refused + f.hanging + f.connectFailed !== f.conns) {
    problems.push("connections unaccounted for");
  }
  if (f.welcomed >= f.conns) problems.push(`no descriptor shortage: all ${f.conns} welcomed`);
  if (f.acceptReports === 0) {
    problems.push(`nothing was logged for the ${f.refused} connections closed unanswered`);
  }
  if (f.acceptReports > Math.ceil(f.seconds) + 1) {
    problems.push(
      `${f.acceptReports} accept error reports in ${f.seconds.toFixed(1)} s: not rate-limited`,
    );
  }
  if (!f.recovered) problems.push("no fresh client answered after the connections closed");
  if (f.answeredAfter !== 10)
    problems.push(`${f.answeredAfter} of 10 fresh clients answered afterwards`);
  return problems;
}

function rows(f: EmfileFigures): Row[] {
  return [
    {
      figure: "connections opened under ulimit -n",
      value: `${int(f.conns)} under ulimit -n ${f.fdLimit} (the server holds ${f.fdsBefore} fds idle)`,
    },
    {
      figure: "welcomed / closed unanswered / hanging",
      value: `${f.welcomed} / ${f.refused} / ${f.hanging}`,
    },
    {
      figure: "refusals or accept errors logged (rate-limited)",
      value:
        f.acceptReports === 0
          ? "none"
          : `${f.acceptReports} in ${f.seconds.toFixed(1)} s (+${int(f.acceptSuppressed)} counted): ${f.acceptSample}`,
    },
    { figure: "server alive out of descriptors", value: yes(f.aliveUnderPressure) },
    {
      figure: "after closing them: fds, first answer",
      value: `${f.fdsAfter} fds, ${f.recovered ? `answered after ${ms(f.recoveryMs)}` : "NOT answered"}`,
    },
    { figure: "fresh clients answered afterwards", value: `${f.answeredAfter} of 10` },
  ];
}

export const emfileScenario: Scenario<EmfileParams, EmfileFigures> = {
  name: "emfile",
  summary: "calculator under a low ulimit -n: out of descriptors, then recovery",
  full: { fdLimit: 64, conns: 100, settleMs: 3000, timeoutMs: 60_000 },
  quick: { fdLimit: 64, conns: 100, settleMs: 2000, timeoutMs: 30_000 },
  run: emfile,
  rows,
};
