/**
 * `tls/abandoned`: N TLS handshakes abandoned midway, `parallel` at a time:
 * each connection sends the first part of a ClientHello (a record header that
 * announces 512 bytes, then a handshake header and part of the hello), then
 * half of them end with a FIN and half with a RST (SO_LINGER 0). The server
 * must log no error, keep no descriptor (back to the count before once
 * `--tls-handshake-timeout` has passed) and go on serving TLS.
 *
 * A reset ends the server's socket at once, and so does a FIN: the TLS
 * listener allows half-open connections only once their handshake is done.
 * The handshake timeout is the bound for descriptors the server holds longer.
 * The client does not wait: it closes its own socket after its FIN.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import net from "node:net";
import { withinLab } from "../lib/lab.js";
import { Sampler, settleFds } from "../lib/sampler.js";
import {
  aftermathRows,
  type Checked,
  int,
  ms,
  type Row,
  type Scenario,
  yes,
} from "../lib/scenario.js";
import { HOST } from "../lib/server.js";
import { makeCertificate, timedTlsExchange, tlsServerArgs } from "./tls-kit.js";

export interface TlsAbandonedParams {
  conns: number;
  parallel: number;
  /** `--tls-handshake-timeout`, seconds: the bound on what the server holds. */
  handshakeTimeoutS: number;
  timeoutMs: number;
}

export interface TlsAbandonedFigures extends Checked {
  conns: number;
  endedWithFin: number;
  endedWithReset: number;
  connectErrors: number;
  clientMs: number;
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

/**
 * The first bytes of a TLS 1.2/1.3 ClientHello: a handshake record header
 * announcing 512 bytes, the hello's header, its version and random; the rest
 * (session id, ciphers, extensions) never comes.
 */
export function partialClientHello(): Buffer {
  return Buffer.concat([
    Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]),
    Buffer.from([0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]),
    randomBytes(32),
  ]);
}

function abandon(port: number, reset: boolean): Promise<"fin" | "reset" | "error"> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    let connected = false;
    socket.once("connect", () => {
      connected = true;
      socket.write(partialClientHello(), () => {
        if (reset) socket.resetAndDestroy();
        else socket.end(() => socket.destroy());
      });
    });
    socket.on("error", () => {
      if (!connected) resolve("error");
    });
    socket.once("close", () => resolve(connected ? (reset ? "reset" : "fin") : "error"));
  });
}

/** Runs the scenario; see the module comment. */
export function tlsAbandoned(p: TlsAbandonedParams): Promise<TlsAbandonedFigures> {
  const cert = makeCertificate();
  return withinLab("tls/abandoned", p.timeoutMs, async (lab) => {
    const server = await lab.server({
      app: "calc-server",
      args: tlsServerArgs(cert, p.handshakeTimeoutS),
    });
    const fdsBefore = server.fdCount();
    const rssBeforeKb = server.rssKb();
    const errorsBefore = server.logCounts.errors;
    const sampler = new Sampler(server.pid, 100);
    const counts = { fin: 0, reset: 0, error: 0 };
    const started = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < p.conns) {
        const index = next++;
        counts[await abandon(server.port, index % 2 === 1)]++;
      }
    };
    await Promise.all(Array.from({ length: p.parallel }, worker));
    const clientMs = performance.now() - started;
    const fdsAfter = await settleFds(server.pid, fdsBefore, p.handshakeTimeoutS * 1000 + 10_000);
    const peaks = sampler.stop();
    const probeAnswered = (await timedTlsExchange(server.port, cert)) !== undefined;
    const f: TlsAbandonedFigures = {
      conns: p.conns,
      endedWithFin: counts.fin,
      endedWithReset: counts.reset,
      connectErrors: counts.error,
      clientMs,
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
  }).finally(() => cert.remove());
}

function check(f: TlsAbandonedFigures): string[] {
  const problems: string[] = [];
  if (f.connectErrors > 0) problems.push(`${f.connectErrors} connections failed to connect`);
  if (f.endedWithFin + f.endedWithReset + f.connectErrors !== f.conns) {
    problems.push(`the client accounted for ${f.endedWithFin + f.endedWithReset} of ${f.conns}`);
  }
  if (f.serverErrors > 0) {
    problems.push(
      `the server logged ${f.serverErrors} errors, first: ${f.serverErrorSample[0] ?? ""}`,
    );
  }
  if (!f.serverAlive) problems.push("the server died");
  if (!f.probeAnswered) problems.push("a fresh TLS client was not answered afterwards");
  if (!(f.fdsAfter <= f.fdsBefore)) {
    problems.push(`descriptors: ${f.fdsBefore} before, ${f.fdsAfter} after`);
  }
  return problems;
}

function rows(f: TlsAbandonedFigures): Row[] {
  return [
    {
      figure: "handshakes abandoned after a partial ClientHello",
      value: `${int(f.endedWithFin + f.endedWithReset)} of ${int(f.conns)} in ${ms(f.clientMs)}`,
    },
    {
      figure: "... ended with FIN / RST / connect errors",
      value: `${int(f.endedWithFin)} / ${int(f.endedWithReset)} / ${int(f.connectErrors)}`,
    },
    ...aftermathRows(f),
    { figure: "fresh TLS client answered afterwards", value: yes(f.probeAnswered) },
  ];
}

export const tlsAbandonedScenario: Scenario<TlsAbandonedParams, TlsAbandonedFigures> = {
  name: "tls/abandoned",
  summary: "TLS calculator: 10,000 handshakes abandoned after a partial ClientHello (FIN or RST)",
  full: { conns: 10_000, parallel: 200, handshakeTimeoutS: 2, timeoutMs: 120_000 },
  quick: { conns: 2_000, parallel: 200, handshakeTimeoutS: 1, timeoutMs: 45_000 },
  run: tlsAbandoned,
  rows,
};
