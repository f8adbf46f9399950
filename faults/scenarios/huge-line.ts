/**
 * `huge-line`: one client sends a line of N bytes without a newline (1 GiB in
 * the full run) to a line server, then a newline and an ordinary request, then
 * EOF. The server should answer one `Line too long` error early, drop the rest
 * of that line without keeping it, answer the next request and close cleanly,
 * its memory hardly moving.
 *
 * @module
 */

import { flood } from "../lib/flood.js";
import { withinLab } from "../lib/lab.js";
import { connect, LineCollector, PROBES, probe } from "../lib/net.js";
import { replyKind } from "../lib/replies.js";
import { Sampler, settleFds } from "../lib/sampler.js";
import { bytes, type Checked, mib, ms, type Row, type Scenario, yes } from "../lib/scenario.js";
import { describeTally, Tally } from "../lib/stats.js";
import type { ServerApp } from "../lib/server.js";

export interface HugeLineParams {
  app: Extract<ServerApp, "calc-server" | "line-echo-server">;
  /** Length of the line, bytes, without a newline. */
  bytes: number;
  timeoutMs: number;
}

export interface HugeLineFigures extends Checked {
  app: string;
  bytes: number;
  /** Bytes the kernel took before the flood ended, how long it took, and why it ended. */
  sent: number;
  floodMs: number;
  floodError?: string;
  stalled: boolean;
  /** Reply lines by kind, in the order of first appearance. */
  received: Record<string, number>;
  receivedBytes: number;
  /** The request after the huge line got its exact reply. */
  answeredAfter: boolean;
  ending: string;
  rssBeforeKb: number;
  rssPeakKb: number;
  fdsBefore: number;
  fdsAfter: number;
  serverAlive: boolean;
  probeAnswered: boolean;
}

/** Bounded memory: what a server that stops reading may grow by (see `no-read`). */
export const RSS_BOUND_KB = 64 * 1024;

/**
 * What the server may grow by while the line streams in; the server runs on this
 * process's runtime (`process.execPath`), so this process's V8 decides it.
 *
 * The server keeps none of the line, but every socket read arrives in a new 64 KiB
 * Buffer that is garbage a moment later, and when that garbage is collected is V8's
 * choice. With a GC forced every 10 ms the growth is 15-19 MiB on Node 22 and 24
 * alike. Left to itself, V8 12 (Node 20, 22) scavenges on "external memory
 * pressure" (--trace-gc) about every 32 MiB of dead buffers: growth 33-36 MiB, for a
 * 256 MiB line and a 1 GiB one. V8 13 and later (Node 24, 26) showed no such
 * scavenge; a full GC starts once external memory has grown by about its 64 MiB
 * soft limit: growth 68-87 MiB on Node 24 and 26, again the same for 1 GiB (heap
 * used stays under 9 MiB; arrayBuffers peak at 65-75 MiB). So V8 >= 13 gets that
 * 64 MiB on top of the 36 MiB V8 12 reaches: 100 MiB, still far below a server that
 * kept even an eighth of a 256 MiB line on top of its garbage.
 */
export const HUGE_LINE_RSS_BOUND_KB =
  Number(process.versions.v8.split(".")[0]) >= 13 ? 100 * 1024 : RSS_BOUND_KB;

/** Runs the scenario; see the module comment. */
export function hugeLine(p: HugeLineParams): Promise<HugeLineFigures> {
  return withinLab(`huge-line/${p.app}`, p.timeoutMs, async (lab) => {
    const server = await lab.server({ app: p.app });
    const fdsBefore = server.fdCount();
    const rssBeforeKb = server.rssKb();
    const sampler = new Sampler(server.pid, 20, { fds: false });
    const socket = lab.socket(await connect(server.port));
    const lines = new LineCollector(socket);
    const result = await flood(socket, p.bytes, Buffer.alloc(1 << 20, "7"), 10_000);
    const { send, reply } = PROBES[p.app];
    if (result.error === undefined && !result.stalled) {
      socket.write(`\n${send}`);
      socket.end();
    }
    await lines.closed(30_000);
    const rssPeakKb = sampler.stop().rssKb;
    socket.destroy();
    const received = new Tally();
    for (const line of lines.lines) received.add(replyKind(line));
    const fdsAfter = await settleFds(server.pid, fdsBefore, 10_000);
    const probeAnswered = await probe(p.app, server.port);
    const f: HugeLineFigures = {
      app: p.app,
      bytes: p.bytes,
      sent: result.sent,
      floodMs: result.ms,
      floodError: result.error,
      stalled: result.stalled,
      received: received.toJSON(),
      receivedBytes: lines.bytes,
      answeredAfter: lines.lines.at(-1) === reply,
      ending: lines.ending,
      rssBeforeKb,
      rssPeakKb,
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

function check(f: HugeLineFigures): string[] {
  const problems: string[] = [];
  if (f.sent !== f.bytes) {
    problems.push(`only ${f.sent} of ${f.bytes} bytes taken (${f.floodError ?? "stalled"})`);
  }
  if ((f.received["too-long"] ?? 0) !== 1) {
    problems.push(`${f.received["too-long"] ?? 0} 'Line too long' replies instead of 1`);
  }
  if (!f.answeredAfter) problems.push("the request after the huge line was not answered");
  if (f.ending !== "eof") problems.push(`the connection ended by ${f.ending}, not a clean EOF`);
  if (f.rssPeakKb - f.rssBeforeKb > HUGE_LINE_RSS_BOUND_KB) {
    problems.push(
      `server RSS grew by ${mib(f.rssPeakKb - f.rssBeforeKb)} (bound ${mib(HUGE_LINE_RSS_BOUND_KB)})`,
    );
  }
  if (!f.serverAlive) problems.push("the server died");
  if (!f.probeAnswered) problems.push("a fresh client was not answered afterwards");
  if (!(f.fdsAfter <= f.fdsBefore))
    problems.push(`descriptors: ${f.fdsBefore} before, ${f.fdsAfter} after`);
  return problems;
}

function rows(f: HugeLineFigures): Row[] {
  const rate = f.sent / 2 ** 20 / (f.floodMs / 1000);
  return [
    {
      figure: "line without newline: taken by the server",
      value: `${bytes(f.sent)} of ${bytes(f.bytes)} in ${ms(f.floodMs)} (${rate.toFixed(0)} MiB/s)`,
    },
    {
      figure: "server RSS before / peak (growth)",
      value: `${mib(f.rssBeforeKb)} / ${mib(f.rssPeakKb)} (+${mib(f.rssPeakKb - f.rssBeforeKb)})`,
    },
    {
      figure: "what the client received",
      value: `${describeTally(f.received)} (${bytes(f.receivedBytes)})`,
    },
    {
      figure: "next request answered, clean EOF",
      value: `${yes(f.answeredAfter)}, ${yes(f.ending === "eof")}`,
    },
    {
      figure: "server alive, fresh client answered",
      value: `${yes(f.serverAlive)}, ${yes(f.probeAnswered)}`,
    },
  ];
}

export const hugeLineScenario: Scenario<HugeLineParams, HugeLineFigures> = {
  name: "huge-line",
  summary: "a huge line without a newline to the calculator, then a request",
  full: { app: "calc-server", bytes: 2 ** 30, timeoutMs: 120_000 },
  quick: { app: "calc-server", bytes: 2 ** 28, timeoutMs: 45_000 },
  run: hugeLine,
  rows,
};
