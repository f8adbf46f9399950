/**
 * A server's graceful stop with a deadline: what `server.shutdown()` and
 * `await using` run.
 *
 * @module
 */

import type { Socket } from "node:net";
import { type Clock, type ClockTimer, systemClock } from "./clock.js";
import { MAX_TIMEOUT_MS } from "./sweeper.js";
import type { Transport } from "./transport.js";

/** The grace period of `server.shutdown()` and of `await using`: 10 s, as the CLI's `--grace`. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/** Options of `server.shutdown()`. */
export interface ShutdownOptions {
  /**
   * How long (ms) the open connections may take to finish; then what is left
   * is aborted. 0 aborts at once (nothing is flushed); `Infinity` waits
   * without limit; otherwise at most 2³¹ − 1.
   * Default {@link DEFAULT_SHUTDOWN_GRACE_MS}.
   */
  grace?: number;
  /** Aborts what is left at once when it aborts (a second Ctrl-C). */
  signal?: AbortSignal;
  /** Called once when the grace period ends with connections left, with their count, just before they are aborted. */
  onGraceOver?: (count: number) => void;
}

/** The part of a `Server` that a shutdown drives. */
export interface ShutdownTarget {
  close(): void;
  abortWaiting(): void;
  abortClients(): void;
  waitClosed(): Promise<void>;
  readonly connections: number;
  readonly waiting: number;
}

/**
 * Stops `server` gracefully: it stops accepting, closes the connections still
 * waiting for a session (`maxSessions`: none of their bytes was read), and asks
 * each open connection to finish (`transport.requestShutdown()`: a stream
 * handler reads on until its input is quiet, then sees EOF; a Protocol without
 * `shutdownRequested` is closed at once, after flushing). Resolves once every
 * connection and handler finished.
 *
 * When `grace` ends first, or `signal` aborts, the connections left are aborted
 * (`onGraceOver` is told how many, for the grace); the promise then resolves
 * once their sockets are closed and the handlers had a turn to see it. A
 * handler that awaits something other than its reader or writer may still be
 * running then: `waitClosed()` still waits for it. So this never waits longer
 * than `grace` plus the few event-loop turns an abort takes.
 *
 * Calling it again asks every connection again and starts its own grace
 * period; the first deadline to end aborts.
 *
 * Rejects with a `TypeError` for a `grace` that is not a number and a
 * `RangeError` for one out of range, before anything is stopped.
 */
export async function gracefulShutdown(
  server: ShutdownTarget,
  transports: Iterable<Transport>,
  options: ShutdownOptions = {},
  clock: Clock = systemClock,
): Promise<void> {
  const grace = validateGrace(options.grace);
  const { signal } = options;
  server.close();
  server.abortWaiting();
  // A snapshot: a connection closed at once leaves the server's set as we go.
  const open = [...transports];
  for (const transport of open) transport.requestShutdown();
  const closed = server.waitClosed().then(() => "closed" as const);
  let timer: ClockTimer | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<"grace" | "aborted">((resolve) => {
    if (signal?.aborted) {
      resolve("aborted");
      return;
    }
    onAbort = () => resolve("aborted");
    signal?.addEventListener("abort", onAbort, { once: true });
    if (grace !== Number.POSITIVE_INFINITY) {
      timer = clock.schedule(grace, () => resolve("grace"));
    }
  });
  let result: "closed" | "grace" | "aborted";
  try {
    result = await Promise.race([closed, deadline]);
  } finally {
    if (timer !== undefined) clock.cancel(timer);
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
  }
  if (result === "closed") return;
  const count = server.connections + server.waiting;
  if (result === "grace" && count > 0) options.onGraceOver?.(count);
  server.abortClients();
  // The server's set holds exactly the transports whose "close" has not come yet.
  await Promise.race([closed, socketsClosed([...transports])]);
}

/** Resolves once every transport's socket has emitted "close", and the handlers had one turn to see it. */
async function socketsClosed(transports: readonly Transport[]): Promise<void> {
  await Promise.all(
    transports.map((transport) => {
      const socket = transport.getExtraInfo("socket") as Socket;
      return new Promise((resolve) => socket.once("close", resolve));
    }),
  );
  // A read or drain rejected by the abort settles its handler in the next turn.
  await new Promise((resolve) => setImmediate(resolve));
}

function validateGrace(grace: number | undefined): number {
  if (grace === undefined) return DEFAULT_SHUTDOWN_GRACE_MS;
  if (typeof grace !== "number") {
    throw new TypeError(`Invalid grace: expected a number of ms, got ${typeof grace}`);
  }
  if (grace === Number.POSITIVE_INFINITY) return grace;
  if (!(grace >= 0 && grace <= MAX_TIMEOUT_MS)) {
    throw new RangeError(
      `Invalid grace: must be from 0 to ${MAX_TIMEOUT_MS} ms or Infinity, got ${grace}`,
    );
  }
  return grace;
}
