/**
 * Raw `node:net` peers for integration tests: hostile or passive clients and
 * servers that the library under test must cope with.
 *
 * @module
 */

import { mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { withTimeout } from "./with-timeout.js";

/** Every wait in these helpers is bounded by this many milliseconds. */
export const WAIT_MS = 10_000;

/** Makes a fresh temporary directory; the caller removes it. */
export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), "asyncnet-test-"));
}

/** Connects a raw socket (half-open allowed) and resolves once connected. */
export function rawConnect(
  port: number,
  host = "127.0.0.1",
  options: { allowHalfOpen?: boolean } = {},
): Promise<net.Socket> {
  const socket = net.connect({ port, host, allowHalfOpen: options.allowHalfOpen ?? true });
  const connected = new Promise<net.Socket>((resolve, reject) => {
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
  return withTimeout(connected, WAIT_MS, `raw connect to ${host}:${port}`);
}

/** What a raw socket received until it closed, and the error that closed it, if any. */
export interface Received {
  data: Buffer;
  error: (Error & { code?: string }) | undefined;
}

/** Collects everything `socket` receives until it closes (EOF or reset). */
export function readToClose(socket: net.Socket): Promise<Received> {
  const chunks: Buffer[] = [];
  let error: Received["error"];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", (e) => {
    error = e;
  });
  socket.on("end", () => {
    if (!socket.writableEnded) socket.end();
  });
  const closed = new Promise<Received>((resolve) => {
    const done = () => resolve({ data: Buffer.concat(chunks), error });
    if (socket.destroyed) done();
    else socket.once("close", done);
  });
  return withTimeout(closed, WAIT_MS, "raw socket to close");
}

/** Starts a raw TCP server on 127.0.0.1, port 0. */
export async function rawServer(onConnection: (socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
    }),
    WAIT_MS,
    "raw server to listen",
  );
  return server;
}

/** The port a raw server listens on. */
export function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = await rawServer(() => {});
  const port = portOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A listening port whose accept queue is full, so a new connect hangs in SYN_SENT. */
export interface FullBacklog {
  port: number;
  close(): Promise<void>;
}

// Node accepts every connection as soon as its event loop turns, so the
// listener lives in a worker whose loop is blocked on Atomics.wait: the kernel
// queue fills up and later SYNs are dropped. Node honours backlog 1 (two
// connections fit); Bun listens with a backlog of 511 whatever it is asked, so
// the queue is filled until a connect hangs rather than with a fixed count.
const BACKLOG_WORKER = `
const net = require("node:net");
const { parentPort, workerData } = require("node:worker_threads");
const flag = new Int32Array(workerData);
const server = net.createServer((socket) => socket.destroy());
server.listen({ host: "127.0.0.1", port: 0, backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(flag, 0, 0);
  server.close();
  // Deno's parentPort has no close(); its worker ends without it.
  parentPort.close?.();
});
`;

/** How long a filler may take to connect before the queue counts as full. */
const FILLER_HANG_MS = 250;
/** Fillers at most: above the 511 Bun listens with, below any descriptor limit. */
const MAX_FILLERS = 1024;

/** Starts a listener with a full accept queue; `close()` releases it and its filler sockets. */
export async function fullBacklogServer(): Promise<FullBacklog> {
  const shared = new SharedArrayBuffer(4);
  const worker = new Worker(BACKLOG_WORKER, { eval: true, workerData: shared });
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    }),
    WAIT_MS,
    "backlog worker to listen",
  );
  const fillers: net.Socket[] = [];
  let full = false;
  while (!full && fillers.length < MAX_FILLERS) {
    const socket = net.connect({ port, host: "127.0.0.1" });
    socket.on("error", () => {});
    fillers.push(socket);
    let timer: NodeJS.Timeout | undefined;
    full = await new Promise<boolean>((resolve) => {
      socket.once("connect", () => resolve(false));
      timer = setTimeout(() => resolve(true), FILLER_HANG_MS);
    });
    clearTimeout(timer);
  }
  if (!full) throw new Error(`The accept queue took ${MAX_FILLERS} connections without filling`);
  return {
    port,
    async close() {
      for (const socket of fillers) socket.destroy();
      const flag = new Int32Array(shared);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await withTimeout(exited, WAIT_MS, "backlog worker to exit");
    },
  };
}
