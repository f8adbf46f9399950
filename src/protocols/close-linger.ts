/**
 * How a transport's `close()` ends: the linger after its EOF, and the bound
 * a `closeTimeout` puts on the whole close.
 *
 * @module
 */

import type { Clock } from "./clock.js";
import { MAX_TIMEOUT_MS } from "./sweeper.js";
import type { TransportStream } from "./transport-stream.js";

/** How long `close()` waits for the peer's EOF after sending its own, in ms. */
export const LINGER_MS = 2000;

/**
 * Checks a close bound (`closeTimeout` option, `close({ timeout })`): an
 * integer in 0..2³¹ − 1 ms. `where` names it: `"server option: closeTimeout"`.
 * @throws {RangeError} naming `where` otherwise.
 */
export function validateCloseTimeout(value: unknown, where: string): void {
  if (
    typeof value !== "number" ||
    !Number.isSafeInteger(value) ||
    value < 0 ||
    value > MAX_TIMEOUT_MS
  ) {
    throw new RangeError(
      `Invalid ${where} must be an integer in 0..${MAX_TIMEOUT_MS} ms, got ${String(value)}`,
    );
  }
}

/**
 * @internal Ends `socket` once its writes are flushed: sends EOF, then waits
 * up to {@link LINGER_MS} for the peer's EOF, reading and dropping what the
 * peer still sends, and destroys it.
 */
export function lingerClose(socket: TransportStream, clock: Clock): void {
  // Closing with unread bytes in the kernel turns our FIN into a RST, and a RST can
  // make the peer's kernel discard the reply still in flight. So keep reading (and
  // dropping) until the peer's EOF, when Node destroys the socket by itself.
  socket.resume();
  const linger = () => {
    if (socket.destroyed) return;
    if (socket.readableEnded) {
      socket.destroy();
      return;
    }
    const timer = clock.schedule(LINGER_MS, () => socket.destroy());
    socket.once("close", () => clock.cancel(timer));
  };
  if (socket.writableFinished) linger();
  else socket.end(linger);
}

/**
 * @internal Bounds a close to `timeout` ms: when it ends with writes still
 * unsent, `onUnsent(unsent)` is called (the transport aborts); when it ends
 * during the linger, the socket is destroyed.
 */
export function boundClose(
  socket: TransportStream,
  clock: Clock,
  timeout: number,
  onUnsent: (unsent: number) => void,
): void {
  const timer = clock.schedule(timeout, () => {
    if (socket.destroyed) return;
    if (socket.writableFinished) {
      socket.destroy();
      return;
    }
    onUnsent(socket.writableLength);
  });
  socket.once("close", () => clock.cancel(timer));
}
