/**
 * Resets: N connections, `parallel` at a time, each sending a burst of
 * requests and then aborting with a TCP RST (`resetAndDestroy()`, as
 * SO_LINGER 0) while the server is still busy with it. Even connections reset
 * once the first reply bytes arrive (the server is writing replies), odd ones
 * right after their own write (the server is reading, or starting to write).
 *
 * Events: `done` with the counts.
 *
 * @module
 */

import net from "node:net";
import { clientParams, emit, runClient } from "../lib/client-io.js";

export interface ResetsParams {
  port: number;
  conns: number;
  parallel: number;
  /** The burst each connection sends before its reset. */
  payload: "calc" | "echo";
  payloadBytes: number;
  /** Bytes to skip before a reply counts (the calculator's welcome). */
  skipBytes: number;
}

interface Counts {
  resetAfterReply: number;
  resetMidSend: number;
  connectErrors: number;
  /** The server ended the connection before the client could reset it. */
  closedByServer: number;
  receivedBytes: number;
}

const params = clientParams<ResetsParams>();

function burst(): Buffer {
  if (params.payload === "calc") {
    return Buffer.from("1,2\n".repeat(Math.ceil(params.payloadBytes / 4)), "latin1");
  }
  return Buffer.from(Array.from({ length: params.payloadBytes }, (_, i) => i % 251));
}

function one(index: number, payload: Buffer, counts: Counts): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port: params.port });
    const afterReply = index % 2 === 0;
    let received = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve();
    };
    const reset = (counter: "resetAfterReply" | "resetMidSend") => {
      if (done || socket.destroyed) return;
      counts[counter]++;
      socket.resetAndDestroy();
      finish();
    };
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      counts.receivedBytes += chunk.length;
      if (afterReply && received > params.skipBytes) reset("resetAfterReply");
    });
    socket.once("connect", () => {
      socket.write(payload);
      if (!afterReply) setImmediate(() => reset("resetMidSend"));
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (done) return;
      if (error.syscall === "connect") counts.connectErrors++;
      else counts.closedByServer++;
      finish();
    });
    socket.on("close", () => {
      if (!done) counts.closedByServer++;
      finish();
    });
  });
}

async function main(): Promise<void> {
  const payload = burst();
  const counts: Counts = {
    resetAfterReply: 0,
    resetMidSend: 0,
    connectErrors: 0,
    closedByServer: 0,
    receivedBytes: 0,
  };
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < params.conns) await one(next++, payload, counts);
  };
  await Promise.all(Array.from({ length: Math.min(params.parallel, params.conns) }, worker));
  emit("done", { conns: params.conns, ...counts, ms: performance.now() - started });
}

runClient(300_000, main);
