/**
 * `no-read`: one client sends up to N bytes of requests (1 GiB in the full
 * run) and never reads a reply. The server should stop reading once its
 * replies back up (so the client stalls, long before N), keep its memory
 * flat, and, once the client does read, answer every byte it took.
 *
 * @module
 */

import { flood } from "../lib/flood.js";
import { withinLab } from "../lib/lab.js";
import { connect, LineCollector, probe } from "../lib/net.js";
import { replyKind } from "../lib/replies.js";
import { Sampler, settleFds } from "../lib/sampler.js";
import { bytes, type Checked, int, mib, type Row, type Scenario, yes } from "../lib/scenario.js";
import type { ServerApp } from "../lib/server.js";
import { RSS_BOUND_KB } from "./huge-line.js";

export interface NoReadParams {
  app: Extract<ServerApp, "calc-server" | "echo-server">;
  /** Most bytes the client tries to send. */
  bytes: number;
  /** No write completing for this long means the server stopped reading, ms. */
  stallMs: number;
  timeoutMs: number;
}

export interface NoReadFigures extends Checked {
  app: string;
  bytes: number;
  /** Bytes the kernel took before the client stalled; bytes handed over in all. */
  sentBeforeStall: number;
  queued: number;
  stalled: boolean;
  floodError?: string;
  rssBeforeKb: number;
  /** Peak while the client did not read. */
  rssPeakKb: number;
  /** Once the client read to the end: bytes and lines received, and the replies expected. */
  receivedBytes: number;
  receivedLines: number;
  expected: number;
  /** Every reply was the expected one (the calculator's sums, the echo's bytes). */
  repliesRight: boolean;
  ending: string;
  fdsBefore: number;
  fdsAfter: number;
  serverAlive: boolean;
  probeAnswered: boolean;
}

/** Requests whose replies are bigger than they are: `1,2\n` (4 bytes) answers 28. */
const CALC_LINE = "1,2\n";

/** Runs the scenario; see the module comment. */
export function noRead(p: NoReadParams): Promise<NoReadFigures> {
  return withinLab(`no-read/${p.app}`, p.timeoutMs, async (lab) => {
    const server = await lab.server({ app: p.app });
    const fdsBefore = server.fdCount();
    const rssBeforeKb = server.rssKb();
    const sampler = new Sampler(server.pid, 20, { fds: false });
    const socket = lab.socket(await connect(server.port));
    socket.pause();
    const chunk =
      p.app === "calc-server"
        ? Buffer.from(CALC_LINE.repeat((1 << 20) / CALC_LINE.length), "latin1")
        : Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => i % 251));
    const result = await flood(socket, p.bytes, chunk, p.stallMs);
    const rssPeakKb = sampler.stop().rssKb;
    // Now read: everything handed over must come back answered.
    const lines = new LineCollector(socket, 100_000);
    let repliesRight = true;
    let first = true;
    let offset = 0;
    socket.on("data", (text: string) => {
      if (p.app === "echo-server") {
        for (let i = 0; i < text.length; i++, offset++) {
          if (text.charCodeAt(i) !== (offset % chunk.length) % 251) repliesRight = false;
        }
        return;
      }
      // LineCollector keeps the lines; take them as they come, so none pile up.
      for (const line of lines.lines.splice(0)) {
        if (replyKind(line) !== (first ? "welcome" : "sum")) repliesRight = false;
        first = false;
      }
    });
    socket.resume();
    socket.end();
    await lines.closed(60_000);
    socket.destroy();
    const expected = p.app === "calc-server" ? result.queued / CALC_LINE.length + 1 : result.queued;
    const fdsAfter = await settleFds(server.pid, fdsBefore, 10_000);
    const probeAnswered = await probe(p.app, server.port);
    const f: NoReadFigures = {
      app: p.app,
      bytes: p.bytes,
      sentBeforeStall: result.sent,
      queued: result.queued,
      stalled: result.stalled,
      floodError: result.error,
      rssBeforeKb,
      rssPeakKb,
      receivedBytes: lines.bytes,
      receivedLines: lines.lineCount,
      expected,
      repliesRight,
      ending: lines.ending,
      fdsBefore,
      fdsAfter,
      serverAlive: server.alive,
      probeAnswered,
      problems: [],
    };
    f.problems = check(f);
    return f;
  });
}

function check(f: NoReadFigures): string[] {
  const problems: string[] = [];
  if (f.floodError !== undefined) problems.push(`the connection failed: ${f.floodError}`);
  if (!f.stalled) problems.push(`the server took all ${bytes(f.bytes)} without the client reading`);
  if (f.rssPeakKb - f.rssBeforeKb > RSS_BOUND_KB) {
    problems.push(
      `server RSS grew by ${mib(f.rssPeakKb - f.rssBeforeKb)} (bound ${mib(RSS_BOUND_KB)})`,
    );
  }
  const got = f.app === "calc-server" ? f.receivedLines : f.receivedBytes;
  if (got !== f.expected) problems.push(`received ${got} of the ${f.expected} replies owed`);
  if (!f.repliesRight) problems.push("a reply was not the expected one");
  if (f.ending !== "eof") problems.push(`the connection ended by ${f.ending}, not a clean EOF`);
  if (!f.serverAlive) problems.push("the server died");
  if (!f.probeAnswered) problems.push("a fresh client was not answered afterwards");
  if (!(f.fdsAfter <= f.fdsBefore))
    problems.push(`descriptors: ${f.fdsBefore} before, ${f.fdsAfter} after`);
  return problems;
}

function rows(f: NoReadFigures): Row[] {
  const owed =
    f.app === "calc-server"
      ? `${int(f.receivedLines)} of ${int(f.expected)} lines`
      : `${bytes(f.receivedBytes)} of ${bytes(f.expected)}`;
  return [
    {
      figure: "sent before the server stopped reading",
      value: `${bytes(f.sentBeforeStall)} of ${bytes(f.bytes)} (${f.stalled ? "stalled" : (f.floodError ?? "not stalled")})`,
    },
    {
      figure: "server RSS before / peak (growth)",
      value: `${mib(f.rssBeforeKb)} / ${mib(f.rssPeakKb)} (+${mib(f.rssPeakKb - f.rssBeforeKb)})`,
    },
    { figure: "received while not reading", value: "0 B (by construction: it never read)" },
    {
      figure: "received once it read to EOF",
      value: `${owed}, ${f.repliesRight ? "all right" : "WRONG"}, ${f.ending}`,
    },
    {
      figure: "server alive, fresh client answered",
      value: `${yes(f.serverAlive)}, ${yes(f.probeAnswered)}`,
    },
  ];
}

export const noReadEchoScenario: Scenario<NoReadParams, NoReadFigures> = {
  name: "no-read/echo",
  summary: "echo server: a client sends without ever reading",
  full: { app: "echo-server", bytes: 2 ** 30, stallMs: 2000, timeoutMs: 90_000 },
  quick: { app: "echo-server", bytes: 2 ** 28, stallMs: 1000, timeoutMs: 45_000 },
  run: noRead,
  rows,
};

export const noReadCalcScenario: Scenario<NoReadParams, NoReadFigures> = {
  ...noReadEchoScenario,
  name: "no-read/calc",
  summary: "calculator: a client pipelines '1,2' lines and never reads the replies",
  full: { ...noReadEchoScenario.full, app: "calc-server" },
  quick: { ...noReadEchoScenario.quick, app: "calc-server" },
};
