/**
 * `fuzz`: N lines generated with fast-check (random bytes, invalid UTF-8,
 * Unicode, integer lists, malformed and Unicode-digit numbers, integers of up
 * to 10,000 digits, lines around and past `--max-line`, mode commands) sent
 * pipelined over several connections by a client process. Exactly one reply
 * line must come per input line (after the calculator's welcome), in order,
 * each as the oracle (fuzz-lines.ts) says; the server must not crash or log
 * errors.
 *
 * @module
 */

import { withinLab } from "../lib/lab.js";
import { probe } from "../lib/net.js";
import { Sampler } from "../lib/sampler.js";
import {
  bytes,
  type Checked,
  int,
  mib,
  ms,
  type Row,
  type Scenario,
  yes,
} from "../lib/scenario.js";
import { describeTally } from "../lib/stats.js";

export interface FuzzParams {
  app: "calc-server" | "line-echo-server";
  lines: number;
  conns: number;
  /** `--max-line` given to the server. */
  maxLine: number;
  seed: number;
  timeoutMs: number;
}

export interface FuzzFigures extends Checked {
  app: string;
  seed: number;
  maxLine: number;
  lines: number;
  bytes: number;
  replies: number;
  /** Replies that broke the oracle, came with no line, or never came. */
  wrong: number;
  extra: number;
  missing: number;
  partial: number;
  kinds: Record<string, number>;
  endings: Record<string, number>;
  mismatches: { line: string; expected: string; reply: string }[];
  clientMs: number;
  crashed: boolean;
  serverErrors: number;
  rssBeforeKb: number;
  rssPeakKb: number;
  probeAnswered: boolean;
}

interface DoneEvent {
  lines: number;
  bytes: number;
  replies: number;
  wrong: number;
  extra: number;
  missing: number;
  partial: number;
  kinds: Record<string, number>;
  endings: Record<string, number>;
  mismatches: { line: string; expected: string; reply: string }[];
  ms: number;
}

/** Python's default int digit limit, the calculator's `--max-digits` default. */
const MAX_DIGITS = 4300;

/** Runs the scenario; see the module comment. */
export function fuzz(p: FuzzParams): Promise<FuzzFigures> {
  return withinLab(`fuzz/${p.app}`, p.timeoutMs, async (lab) => {
    const server = await lab.server({ app: p.app, args: ["--max-line", String(p.maxLine)] });
    const rssBeforeKb = server.rssKb();
    const errorsBefore = server.logCounts.errors;
    const sampler = new Sampler(server.pid, 100, { fds: false });
    const client = lab.client("fuzz", {
      port: server.port,
      app: p.app,
      lines: p.lines,
      conns: p.conns,
      maxLine: p.maxLine,
      maxDigits: MAX_DIGITS,
      seed: p.seed,
    });
    const done = await client.next<DoneEvent>("done", p.timeoutMs);
    const rssPeakKb = sampler.stop().rssKb;
    const crashed = !server.alive;
    const probeAnswered = await probe(p.app, server.port);
    const f: FuzzFigures = {
      app: p.app,
      seed: p.seed,
      maxLine: p.maxLine,
      lines: done.lines,
      bytes: done.bytes,
      replies: done.replies,
      wrong: done.wrong,
      extra: done.extra,
      missing: done.missing,
      partial: done.partial,
      kinds: done.kinds,
      endings: done.endings,
      mismatches: done.mismatches,
      clientMs: done.ms,
      crashed,
      serverErrors: server.logCounts.errors - errorsBefore,
      rssBeforeKb,
      rssPeakKb,
      probeAnswered,
      problems: [],
    };
    f.problems = check(f);
    return f;
  });
}

function check(f: FuzzFigures): string[] {
  const problems: string[] = [];
  if (f.crashed) problems.push("the server crashed");
  if (f.replies !== f.lines) problems.push(`${int(f.replies)} replies to ${int(f.lines)} lines`);
  if (f.missing > 0) problems.push(`${f.missing} lines never answered`);
  if (f.extra > 0) problems.push(`${f.extra} replies with no line`);
  if (f.wrong > 0) {
    const first = f.mismatches[0];
    const example =
      first === undefined
        ? ""
        : `, e.g. ${first.line} → ${first.reply} (expected ${first.expected})`;
    problems.push(`${f.wrong} replies broke the oracle${example}`);
  }
  if (f.partial > 0) problems.push(`${f.partial} bytes of a reply cut short`);
  const unclean = Object.keys(f.endings).filter((k) => k !== "eof");
  if (unclean.length > 0) problems.push(`connections ended by ${unclean.join(", ")}`);
  if (f.serverErrors > 0) problems.push(`the server logged ${f.serverErrors} errors`);
  if (!f.probeAnswered) problems.push("a fresh client was not answered afterwards");
  return problems;
}

function rows(f: FuzzFigures): Row[] {
  return [
    {
      figure: "fuzzed lines sent (fast-check, seed)",
      value: `${int(f.lines)} (${bytes(f.bytes)}, --max-line ${f.maxLine}, seed ${f.seed}) in ${ms(f.clientMs)}`,
    },
    {
      figure: "replies / wrong / missing / extra",
      value: `${int(f.replies)} / ${int(f.wrong)} / ${int(f.missing)} / ${int(f.extra)}`,
    },
    { figure: "answers by kind", value: describeTally(f.kinds, 9) },
    {
      figure: "server crashed / errors logged",
      value: `${yes(f.crashed)} / ${int(f.serverErrors)}`,
    },
    { figure: "server RSS before / peak", value: `${mib(f.rssBeforeKb)} / ${mib(f.rssPeakKb)}` },
    { figure: "fresh client answered afterwards", value: yes(f.probeAnswered) },
  ];
}

export const fuzzCalcScenario: Scenario<FuzzParams, FuzzFigures> = {
  name: "fuzz/calc",
  summary: "calculator: fast-check fuzzed lines over 8 connections",
  full: {
    app: "calc-server",
    lines: 1_000_000,
    conns: 8,
    maxLine: 16_384,
    seed: 20_251_123,
    timeoutMs: 180_000,
  },
  quick: {
    app: "calc-server",
    lines: 100_000,
    conns: 8,
    maxLine: 16_384,
    seed: 20_251_123,
    timeoutMs: 45_000,
  },
  run: fuzz,
  rows,
};

export const fuzzLineEchoScenario: Scenario<FuzzParams, FuzzFigures> = {
  name: "fuzz/line-echo",
  summary: "line echo: fast-check fuzzed lines over 8 connections",
  full: { ...fuzzCalcScenario.full, app: "line-echo-server", lines: 200_000 },
  quick: { ...fuzzCalcScenario.quick, app: "line-echo-server", lines: 50_000 },
  run: fuzz,
  rows,
};
