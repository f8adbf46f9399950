/**
 * Pipelining load for a graceful stop: N connections to a line server, each
 * keeping `depth` numbered lines in flight (`1`, `2`, …; the calculator
 * answers `Sum of input numbers: 'k'`, the line echo `Echoed: 'k'`), every
 * reply checked against the line it answers, in order.
 *
 * A line counts as sent once its write completed (it is in the kernel). On the
 * command `mark` the client notes, per connection, how many lines were sent,
 * and says so; it goes on sending until `lines` were written on a connection
 * (0: until the server ends it). With `burst`, on `mark` each connection stops
 * its window and writes `burst` more lines in one write at once; the mark is
 * taken once every such write is in the kernel.
 *
 * Events: `ready` (all connected, each answered once), `mark`, `done` (all
 * connections ended, or `maxMs` after the mark).
 *
 * @module
 */

import net from "node:net";
import { clientParams, emit, onCommand, runClient } from "../lib/client-io.js";
import { Tally } from "../lib/stats.js";

export interface PipelineParams {
  port: number;
  conns: number;
  depth: number;
  /** Lines each connection writes in all; 0: no limit. */
  lines: number;
  /** Lines each connection writes at once on `mark`; 0: none. */
  burst: number;
  app: "calc-server" | "line-echo-server";
  maxMs: number;
}

interface Conn {
  socket: net.Socket;
  sent: number;
  written: number;
  replies: number;
  atMark: number;
  bad: number;
  partial: string;
  welcomed: boolean;
  ending: "open" | "eof" | "reset" | "error";
}

const params = clientParams<PipelineParams>();
const calc = params.app === "calc-server";
const expected = (k: number) => (calc ? `Sum of input numbers: '${k}'\r` : `Echoed: '${k}'\r`);

let bursting = false;

function send(c: Conn): void {
  if (c.ending !== "open" || c.socket.writableEnded || bursting) return;
  if (params.lines > 0 && c.written >= params.lines) return;
  const k = ++c.written;
  c.socket.write(`${k}\n`, (error) => {
    if (!error) c.sent++;
  });
}

/** Writes `n` numbered lines in one write; resolves once it is in the kernel. */
function burst(c: Conn, n: number): Promise<void> {
  if (c.ending !== "open") return Promise.resolve();
  const first = c.written + 1;
  c.written += n;
  let text = "";
  for (let k = first; k <= c.written; k++) text += `${k}\n`;
  return new Promise((resolve) =>
    c.socket.write(text, (error) => {
      if (!error) c.sent += n;
      resolve();
    }),
  );
}

function open(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port: params.port });
    const c: Conn = {
      ...{ socket, sent: 0, written: 0, replies: 0, atMark: -1, bad: 0, partial: "" },
      ...{ welcomed: !calc, ending: "open" },
    };
    socket.setNoDelay(true);
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      const lines = (c.partial + text).split("\n");
      c.partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!c.welcomed) {
          c.welcomed = true;
          continue;
        }
        c.replies++;
        if (line !== expected(c.replies)) c.bad++;
        send(c);
      }
      if (c.replies > 0) resolve(c);
    });
    socket.on("end", () => {
      if (c.ending === "open") c.ending = "eof";
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (c.ending === "open") c.ending = error.code === "ECONNRESET" ? "reset" : "error";
      reject(error);
    });
    socket.on("close", () => {
      if (c.ending === "open") c.ending = "eof";
    });
    socket.once("connect", () => {
      for (let i = 0; i < params.depth; i++) send(c);
    });
  });
}

async function main(): Promise<void> {
  const conns: Conn[] = [];
  for (let i = 0; i < params.conns; i += 50) {
    const batch = Array.from({ length: Math.min(50, params.conns - i) }, open);
    conns.push(...(await Promise.all(batch)));
  }
  let markedAt: number | undefined;
  onCommand((command) => {
    if (command !== "mark" || markedAt !== undefined || bursting) return;
    const take = () => {
      for (const c of conns) c.atMark = c.sent;
      markedAt = performance.now();
      emit("mark", { sent: conns.reduce((n, c) => n + c.atMark, 0) });
    };
    if (params.burst === 0) {
      take();
      return;
    }
    bursting = true;
    void Promise.all(conns.map((c) => burst(c, params.burst))).then(take);
  });
  emit("ready", { conns: conns.length });
  const closed = () => conns.every((c) => c.socket.destroyed);
  while (!(markedAt !== undefined && closed())) {
    if (markedAt !== undefined && performance.now() - markedAt > params.maxMs) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const endings = new Tally();
  let lost = 0;
  let answeredAfterMark = 0;
  let unansweredAfterMark = 0;
  for (const c of conns) {
    endings.add(c.ending);
    lost += Math.max(0, c.atMark - c.replies);
    answeredAfterMark += Math.max(0, c.replies - c.atMark);
    unansweredAfterMark += Math.max(0, c.sent - Math.max(c.replies, c.atMark));
    c.socket.destroy();
  }
  const sum = (f: (c: Conn) => number) => conns.reduce((n, c) => n + f(c), 0);
  emit("done", {
    conns: conns.length,
    sentAtMark: sum((c) => c.atMark),
    sent: sum((c) => c.sent),
    replies: sum((c) => c.replies),
    lost,
    connsLosing: conns.filter((c) => c.atMark > c.replies).length,
    answeredAfterMark,
    unansweredAfterMark,
    bad: sum((c) => c.bad),
    partialBytes: sum((c) => c.partial.length),
    endings: endings.toJSON(),
  });
}

runClient(params.maxMs + 120_000, main);
