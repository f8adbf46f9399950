/**
 * Slowloris: N connections that each start a line and then add one byte to it
 * every `dripMs`, never ending it, so that no idle timeout fires. Reports when
 * and how the server closed each one, and what it sent first.
 *
 * Events: `ready` (all connected and started), `done` (all closed by the
 * server, or `maxMs` after `ready`; the rest are then destroyed).
 *
 * @module
 */

import net from "node:net";
import { clientParams, emit, runClient } from "../lib/client-io.js";
import { quantile, Tally } from "../lib/stats.js";

export interface SlowlorisParams {
  port: number;
  conns: number;
  /** The start of the line each connection sends at once. Default `1,`. */
  prefix?: string;
  /** Milliseconds between two bytes. */
  dripMs: number;
  /** How long to wait, after `ready`, for the server to close them. */
  maxMs: number;
  /** Connections opening at once. Default 64. */
  parallel?: number;
}

interface Loris {
  socket: net.Socket;
  startedAt: number;
  closedAt?: number;
  how?: "eof" | "reset" | "error";
  received: string;
}

const params = clientParams<SlowlorisParams>();

/** The reply kind of a line the server sent, with digits and sizes blurred. */
function kind(line: string): string {
  return line.replace(/\d+/g, "N").slice(0, 80);
}

function open(port: number, prefix: string): Promise<Loris> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const loris: Loris = { socket, startedAt: 0, received: "" };
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      if (loris.received.length < 4096) loris.received += text;
    });
    const end = (how: Loris["how"]) => {
      if (loris.closedAt !== undefined) return;
      loris.closedAt = performance.now();
      loris.how = how;
    };
    socket.on("end", () => end("eof"));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      end(error.code === "ECONNRESET" || error.code === "EPIPE" ? "reset" : "error");
    });
    socket.on("close", () => end("eof"));
    socket.once("connect", () => {
      loris.startedAt = performance.now();
      socket.write(prefix);
      resolve(loris);
    });
    socket.once("error", reject);
  });
}

async function main(): Promise<void> {
  const { port, conns, dripMs, maxMs } = params;
  const parallel = params.parallel ?? 64;
  const lorises: Loris[] = [];
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < conns) {
      next++;
      try {
        lorises.push(await open(port, params.prefix ?? "1,"));
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, conns) }, worker));
  const drip = setInterval(() => {
    for (const l of lorises) if (l.closedAt === undefined) l.socket.write("1");
  }, dripMs);
  const readyAt = performance.now();
  emit("ready", { connected: lorises.length, failed });
  while (lorises.some((l) => l.closedAt === undefined) && performance.now() - readyAt < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  clearInterval(drip);
  const reclaimed = lorises.filter((l) => l.closedAt !== undefined);
  const after = reclaimed.map((l) => (l.closedAt as number) - l.startedAt);
  const how = new Tally();
  const replies = new Tally();
  for (const l of reclaimed) how.add(l.how ?? "eof");
  for (const l of lorises) {
    const lines = l.received.split("\n").filter((line) => line !== "");
    // The welcome is every calculator connection's first line: not a reply.
    for (const line of lines) if (!line.startsWith("<welcome")) replies.add(kind(line));
    if (lines.length === 0 || lines.every((line) => line.startsWith("<welcome"))) {
      replies.add("(no reply)");
    }
  }
  const stillOpen = lorises.length - reclaimed.length;
  for (const l of lorises) l.socket.destroy();
  emit("done", {
    connected: lorises.length,
    failed,
    reclaimed: reclaimed.length,
    stillOpen,
    how: how.toJSON(),
    replies: replies.toJSON(),
    reclaimMs: { min: quantile(after, 0), p50: quantile(after, 0.5), max: quantile(after, 1) },
  });
}

runClient(params.maxMs + 120_000, main);
