/**
 * A transport's idle timeout: what counts as progress, and the error it closes with.
 *
 * @module
 */

import { TimeoutError } from "../errors.js";
import type { SocketAddress } from "./connection-info.js";
import type { TransportStream } from "./transport-stream.js";

/** The parts of Node's stream handles that tell how much of a write the kernel took. */
interface StreamHandle {
  bytesWritten?: unknown;
  writeQueueSize?: unknown;
  _parent?: StreamHandle;
}

/**
 * @internal The idle sweeper's progress marker of a transport whose reads and
 * writes counted `activity` so far: that count plus the bytes the kernel took
 * from pending writes.
 */
export function idleProgress(socket: TransportStream, activity: number): number {
  // Nothing pending, nothing to take: skip the handle's accessors.
  return socket.writableLength === 0 ? activity : activity + acceptedBytes(socket);
}

/** @internal The error an idle timeout closes a connection with, naming the replies left unsent. */
export function idleTimeoutError(
  socket: TransportStream,
  peer: SocketAddress | string | undefined,
): TimeoutError {
  const unsent = socket.writableLength;
  const detail = unsent > 0 ? ` with ${unsent} bytes unsent` : "";
  return new TimeoutError(`Connection closed: idle timeout${detail}`, {
    closedConnection: true,
    peer,
  });
}

/**
 * Bytes the kernel took from the socket's writes so far, or 0 where Node does
 * not tell. Node's public counters (`bytesWritten`, `writableLength`) do not
 * move during one large partial write (checked on Node 20: they change only
 * when the whole write is done), but libuv's handle does: `writeQueueSize`
 * shrinks as the kernel takes bytes, and `bytesWritten` counts bytes handed
 * to it. Over TLS the TCP handle is the TLS handle's `_parent`. Internal
 * fields, so guarded: without them only finished writes count.
 */
function acceptedBytes(socket: TransportStream): number {
  let handle = (socket as unknown as { _handle?: StreamHandle | null })._handle;
  if (handle === null || handle === undefined) return 0;
  if (handle._parent !== undefined && handle._parent !== null) handle = handle._parent;
  const { bytesWritten, writeQueueSize } = handle;
  if (typeof bytesWritten !== "number" || typeof writeQueueSize !== "number") return 0;
  return bytesWritten - writeQueueSize;
}
