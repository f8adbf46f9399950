/**
 * Writes a large amount of data into one socket as fast as the peer takes
 * it, and notices when the peer stops taking it.
 *
 * @module
 */

import type net from "node:net";

/** How a flood ended. */
export interface FloodResult {
  /** Bytes the kernel accepted (write callbacks that completed). */
  sent: number;
  /** Bytes handed to Node: `sent` plus what is still queued (at most 4 chunks). */
  queued: number;
  /** No write completed for `stallMs`: the peer stopped reading. */
  stalled: boolean;
  /** The socket failed (the peer closed or reset it), with its code. */
  error?: string;
  ms: number;
}

/**
 * Writes `chunk` repeatedly (the last one cut to size) until `total` bytes are
 * in the kernel, the socket fails, or no write completes for `stallMs`. At
 * most 4 chunks are queued in Node at a time, so the client's own memory stays
 * small whatever the peer does.
 */
export function flood(
  socket: net.Socket,
  total: number,
  chunk: Buffer,
  stallMs: number,
): Promise<FloodResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let queued = 0;
    let sent = 0;
    let inFlight = 0;
    let lastProgress = performance.now();
    let settled = false;
    const finish = (result: Omit<FloodResult, "ms" | "sent" | "queued">) => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      socket.off("error", onError);
      resolve({ ...result, sent, queued, ms: performance.now() - started });
    };
    const onError = (error: NodeJS.ErrnoException) =>
      finish({ stalled: false, error: error.code ?? error.message });
    socket.on("error", onError);
    const pump = () => {
      while (!settled && inFlight < 4 && queued < total) {
        const n = Math.min(chunk.length, total - queued);
        queued += n;
        inFlight++;
        socket.write(n === chunk.length ? chunk : chunk.subarray(0, n), (error) => {
          inFlight--;
          if (error) return;
          sent += n;
          lastProgress = performance.now();
          if (sent >= total) finish({ stalled: false });
          else pump();
        });
      }
    };
    const watch = setInterval(
      () => {
        if (performance.now() - lastProgress > stallMs) finish({ stalled: true });
      },
      Math.min(100, stallMs / 4),
    );
    pump();
  });
}
