/**
 * What runs in a worker process of a supervised server: its slot, the stop
 * requests of the primary as abort signals, and the `listening` report.
 *
 * @module
 */

import cluster from "node:cluster";
import { setMaxListeners } from "node:events";
import type { AddressInfo } from "node:net";
import { AbortError } from "../errors.js";
import {
  type FarewellMessage,
  isWorkerMessage,
  type ListeningMessage,
  WORKER_SLOT_ENV,
} from "./worker-messages.js";

/**
 * The slot (1..count) of this process when it is a worker started by a
 * supervising primary, else `undefined` (a single process, or the primary).
 */
export function workerSlot(env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (!cluster.isWorker) return undefined;
  const slot = Number(env[WORKER_SLOT_ENV]);
  return Number.isInteger(slot) && slot > 0 ? slot : undefined;
}

/** The two stop signals of a worker; see {@link workerStopSignals}. */
export interface WorkerStopSignals {
  /** Aborted by the primary's `shutdown` (or a first SIGINT/SIGTERM sent to the worker itself). */
  shutdown: AbortSignal;
  /** Aborted by the primary's `abort` (or a second SIGINT/SIGTERM sent to the worker itself). */
  abort: AbortSignal;
  /** Removes the listeners. */
  dispose: () => void;
}

/**
 * The stop signals of a worker. The primary decides: its `shutdown` message
 * aborts `shutdown`, its `abort` message aborts `abort` (each idempotent, so
 * a Ctrl-C that reached the whole process group and the primary's forward of
 * it count once). A SIGINT/SIGTERM sent to the worker alone counts as in a
 * single process: the first is a shutdown, the second an abort. SIGHUP is
 * ignored here: in a supervised server it asks the primary for a rolling
 * restart, and a worker must not die of it.
 */
export function workerStopSignals(): WorkerStopSignals {
  const shutdown = new AbortController();
  const abort = new AbortController();
  setMaxListeners(0, shutdown.signal, abort.signal);
  const stop = (level: "shutdown" | "abort", why: string) => {
    const reason = new AbortError(`Stopped by ${why}`);
    if (!shutdown.signal.aborted) shutdown.abort(reason);
    if (level === "abort" && !abort.signal.aborted) abort.abort(reason);
  };
  const onMessage = (message: unknown) => {
    if (isWorkerMessage(message, "shutdown")) stop("shutdown", "the primary");
    else if (isWorkerMessage(message, "abort")) stop("abort", "the primary");
  };
  const onSignal = (signal: NodeJS.Signals) =>
    stop(shutdown.signal.aborted ? "abort" : "shutdown", signal);
  const onHangup = () => {};
  process.on("message", onMessage);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onHangup);
  const dispose = () => {
    process.off("message", onMessage);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onHangup);
  };
  return { shutdown: shutdown.signal, abort: abort.signal, dispose };
}

/** `127.0.0.1:8080`, `[::1]:8080`, or a Unix socket's path. */
function formatAddress(address: AddressInfo | string): string {
  if (typeof address === "string") return address;
  const host = address.address.includes(":") ? `[${address.address}]` : address.address;
  return `${host}:${address.port}`;
}

/**
 * Tells the primary that this worker's server listens: only then does a
 * rolling restart let the worker it replaces drain. Does nothing outside a
 * cluster worker.
 */
export function announceListening(addresses: readonly (AddressInfo | string)[]): void {
  if (!cluster.isWorker || process.send === undefined) return;
  const message: ListeningMessage = {
    asyncnet: "listening",
    addresses: addresses.map(formatAddress),
  };
  process.send(message);
}

/**
 * Call before a worker exits, once its server is closed: resolves when the
 * primary answered (or after `timeout` ms, default 2000, or at once outside a
 * cluster worker or without a channel). See `FarewellMessage` for why.
 */
export function farewell(timeout = 2000): Promise<void> {
  if (!cluster.isWorker || process.send === undefined || !process.connected) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      process.off("message", onMessage);
      resolve();
    };
    const onMessage = (message: unknown) => {
      if (isWorkerMessage(message, "bye")) done();
    };
    const timer = setTimeout(done, timeout);
    process.on("message", onMessage);
    const message: FarewellMessage = { asyncnet: "closing" };
    process.send?.(message);
  });
}
