/**
 * `tls/no-hello`: N TCP connections to a TLS calculator that never send a
 * ClientHello. The server must hold them only until `--tls-handshake-timeout`
 * and then close every one (not refuse it: no limit is near), with its
 * descriptors back to where they were, while a legitimate TLS client beside
 * them keeps being answered; its latency is measured before and during.
 *
 * @module
 */

import net from "node:net";
import { withinLab } from "../lib/lab.js";
import { Sampler, settleFds } from "../lib/sampler.js";
import { type Checked, int, ms, type Row, type Scenario, yes } from "../lib/scenario.js";
import { HOST } from "../lib/server.js";
import { makeCertificate, quantile, timedTlsExchange, tlsServerArgs } from "./tls-kit.js";

export interface TlsNoHelloParams {
  conns: number;
  /** `--tls-handshake-timeout`, seconds. */
  handshakeTimeoutS: number;
  /** Exchanges of the legitimate client before the silent ones come. */
  baselineSamples: number;
  timeoutMs: number;
}

export interface TlsNoHelloFigures extends Checked {
  conns: number;
  handshakeTimeoutS: number;
  connected: number;
  connectErrors: number;
  /** Silent connections the server closed (the client never ends them). */
  closedByServer: number;
  /** From the last connect to the last close by the server. */
  reclaimMs: number;
  /** Lines of the server about refused connections (a limit), which there must be none of. */
  refusedLines: number;
  baselineP50Ms: number;
  /** The legitimate client while the silent connections were held. */
  duringSamples: number;
  duringFailures: number;
  duringP50Ms: number;
  duringP99Ms: number;
  duringMaxMs: number;
  fdsBefore: number;
  fdsPeak: number;
  fdsAfter: number;
  serverErrors: number;
  serverAlive: boolean;
}

/** Runs the scenario; see the module comment. */
export function tlsNoHello(p: TlsNoHelloParams): Promise<TlsNoHelloFigures> {
  const cert = makeCertificate();
  return withinLab("tls/no-hello", p.timeoutMs, async (lab) => {
    const server = await lab.server({
      app: "calc-server",
      args: tlsServerArgs(cert, p.handshakeTimeoutS),
    });
    const fdsBefore = server.fdCount();
    const errorsBefore = server.logCounts.errors;
    const baseline: number[] = [];
    for (let i = 0; i < p.baselineSamples; i++) {
      const took = await timedTlsExchange(server.port, cert);
      if (took !== undefined) baseline.push(took);
    }
    const sampler = new Sampler(server.pid, 100);
    let connected = 0;
    let connectErrors = 0;
    let closedByServer = 0;
    let lastClose = 0;
    const closes: Promise<void>[] = [];
    // In batches, so that the accept queue (511) is not what is measured.
    for (let start = 0; start < p.conns; start += 250) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < Math.min(p.conns, start + 250); i++) {
        const socket = lab.socket(net.connect({ host: HOST, port: server.port }));
        batch.push(
          new Promise<void>((resolve) => {
            socket.once("connect", () => {
              connected++;
              resolve();
            });
            socket.once("error", () => {
              // A reset by the server after the connect is a close, counted below.
              if (socket.connecting) connectErrors++;
              resolve();
            });
          }),
        );
        closes.push(
          new Promise<void>((resolve) =>
            socket.once("close", () => {
              closedByServer++;
              lastClose = performance.now();
              resolve();
            }),
          ),
        );
      }
      await Promise.all(batch);
    }
    const lastConnect = performance.now();
    // The legitimate client beside them, until the server has let every one go.
    const during: number[] = [];
    let duringFailures = 0;
    let allClosed = false;
    const reclaimed = Promise.all(closes).then(() => {
      allClosed = true;
    });
    while (!allClosed) {
      const took = await timedTlsExchange(server.port, cert);
      if (took === undefined) duringFailures++;
      else during.push(took);
    }
    await reclaimed;
    const peaks = sampler.stop();
    const fdsAfter = await settleFds(server.pid, fdsBefore, 10_000);
    const f: TlsNoHelloFigures = {
      conns: p.conns,
      handshakeTimeoutS: p.handshakeTimeoutS,
      connected,
      connectErrors,
      closedByServer,
      reclaimMs: lastClose - lastConnect,
      refusedLines: server.stderrLines.filter((l) => l.includes("refused")).length,
      baselineP50Ms: quantile(baseline, 0.5),
      duringSamples: during.length,
      duringFailures,
      duringP50Ms: quantile(during, 0.5),
      duringP99Ms: quantile(during, 0.99),
      duringMaxMs: quantile(during, 1),
      fdsBefore,
      fdsPeak: peaks.fds,
      fdsAfter,
      serverErrors: server.logCounts.errors - errorsBefore,
      serverAlive: server.alive,
      problems: [],
    };
    f.problems = check(f);
    return f;
  }).finally(() => cert.remove());
}

function check(f: TlsNoHelloFigures): string[] {
  const problems: string[] = [];
  if (f.connected !== f.conns) problems.push(`${f.connected} of ${f.conns} connected`);
  if (f.closedByServer !== f.conns) {
    problems.push(`the server closed ${f.closedByServer} of ${f.conns} silent connections`);
  }
  if (f.refusedLines > 0) problems.push(`the server refused connections (${f.refusedLines} lines)`);
  if (f.duringFailures > 0) {
    problems.push(`the legitimate client failed ${f.duringFailures} times beside them`);
  }
  if (f.duringSamples === 0) problems.push("the legitimate client was never answered beside them");
  if (f.serverErrors > 0) problems.push(`the server logged ${f.serverErrors} errors`);
  if (!f.serverAlive) problems.push("the server died");
  if (!(f.fdsAfter <= f.fdsBefore)) {
    problems.push(`descriptors: ${f.fdsBefore} before, ${f.fdsAfter} after`);
  }
  return problems;
}

function rows(f: TlsNoHelloFigures): Row[] {
  return [
    {
      figure: `silent connections closed by --tls-handshake-timeout ${f.handshakeTimeoutS}`,
      value: `${int(f.closedByServer)} of ${int(f.conns)}, the last ${ms(f.reclaimMs)} after the last connect`,
    },
    {
      figure: "connect errors / refused by a limit",
      value: `${int(f.connectErrors)} / ${int(f.refusedLines)}`,
    },
    { figure: "TLS client exchange, alone: p50", value: ms(f.baselineP50Ms) },
    {
      figure: "... beside them: p50 / p99 / max (samples)",
      value: `${ms(f.duringP50Ms)} / ${ms(f.duringP99Ms)} / ${ms(f.duringMaxMs)} (${int(f.duringSamples)})`,
    },
    { figure: "... failures beside them", value: int(f.duringFailures) },
    {
      figure: "server fds before / peak / after",
      value: `${f.fdsBefore} / ${int(f.fdsPeak)} / ${f.fdsAfter}`,
    },
    {
      figure: "server crashed / errors logged",
      value: `${yes(!f.serverAlive)} / ${int(f.serverErrors)}`,
    },
  ];
}

export const tlsNoHelloScenario: Scenario<TlsNoHelloParams, TlsNoHelloFigures> = {
  name: "tls/no-hello",
  summary:
    "TLS calculator: 2,000 connections that never send a ClientHello, reclaimed by the handshake timeout",
  full: { conns: 2_000, handshakeTimeoutS: 2, baselineSamples: 20, timeoutMs: 90_000 },
  quick: { conns: 1_000, handshakeTimeoutS: 1, baselineSamples: 10, timeoutMs: 45_000 },
  run: tlsNoHello,
  rows,
};
