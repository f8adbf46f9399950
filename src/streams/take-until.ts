import { type ErrorPeer, IncompleteReadError, LimitOverrunError } from "../errors.js";
import type { ChunkQueue } from "./chunk-queue.js";

/**
 * `readUntil`'s one look at the buffer: takes the bytes through the separator
 * that ends first, if buffered within `limit`; else returns null (wait for
 * more) or throws. A single separator is searched with `queue.find` (resuming
 * where the last search stopped); several from `from`, where the caller's last
 * look ended.
 * @throws {LimitOverrunError} when the separator starts past `limit`, or none
 *   starts within it; nothing is consumed.
 * @throws {IncompleteReadError} at `eof` without a separator, consuming the rest
 *   (its `peer` is `peer`).
 */
export function takeUntil(
  queue: ChunkQueue,
  separators: Buffer[],
  from: number,
  limit: number,
  eof: boolean,
  peer?: ErrorPeer,
): Buffer | null {
  let matchStart = -1;
  let matchEnd = Number.POSITIVE_INFINITY;
  let longest = 0;
  if (separators.length === 1) {
    const sep = separators[0] as Buffer;
    matchStart = queue.find(sep);
    matchEnd = matchStart + sep.length;
    longest = sep.length;
  } else {
    for (const sep of separators) {
      const at = queue.indexOf(sep, from);
      if (at !== -1 && at + sep.length < matchEnd) {
        matchStart = at;
        matchEnd = at + sep.length;
      }
      longest = Math.max(longest, sep.length);
    }
  }
  if (matchStart !== -1) {
    if (matchStart > limit) {
      throw new LimitOverrunError("Separator is found, but chunk is longer than limit", matchStart);
    }
    return queue.take(matchEnd);
  }
  const consumed = Math.max(0, queue.size + 1 - longest);
  if (consumed > limit) {
    throw new LimitOverrunError(
      `Cannot read until separator: not found within the limit of ${limit} bytes`,
      consumed,
    );
  }
  if (eof) throw new IncompleteReadError(queue.take(queue.size), null, { peer });
  return null;
}
