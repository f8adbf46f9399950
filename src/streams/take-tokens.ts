import type { ChunkQueue } from "./chunk-queue.js";

const EMPTY = Buffer.alloc(0);

/** Receives the tokens of `StreamReader.readTokensNow`: a framing's parser, told each token in place. */
export interface TokenVisitor {
  /**
   * The token to read next: `-1` through the separator, `n >= 0` exactly `n`
   * bytes. Read before every token; `onToken` sets it for the one after.
   */
  want: number;
  /**
   * One token: `bytes[start, end)`, the separator included. The bytes are
   * never overwritten: a view of them may be kept. Return false to stop after it.
   */
  onToken(bytes: Buffer, start: number, end: number): boolean;
}

/**
 * Hands tokens to `visitor` while the one it wants is buffered: exactly
 * `visitor.want` bytes, or (when it is -1) the bytes through `sep`, which
 * must start within `limit` bytes. A token inside one chunk is handed in
 * place (no Buffer is made for it: a RESP framing's headers cost nothing but
 * the search); one that straddles chunks is copied first. Stops when the
 * wanted token is not buffered or its separator starts past `limit`
 * (consuming nothing for it: the caller's `readUntilNow` / `readExactlyNow`
 * then says why), or after `onToken` returns false (that token consumed).
 * Errors thrown by `onToken` propagate, its token consumed.
 * @returns how many tokens were handed over.
 */
export function takeTokens(
  queue: ChunkQueue,
  sep: Buffer,
  limit: number,
  visitor: TokenVisitor,
): number {
  let count = 0;
  for (;;) {
    const want = visitor.want;
    let length: number;
    if (want >= 0) {
      if (want > queue.size) break;
      length = want;
    } else {
      const at = queue.find(sep);
      if (at === -1 || at > limit) break;
      length = at + sep.length;
    }
    count++;
    if (length === 0) {
      if (!visitor.onToken(EMPTY, 0, 0)) break;
      continue;
    }
    const first = queue.front as Buffer;
    const head = queue.head;
    if (head + length <= first.length) {
      queue.skip(length);
      if (!visitor.onToken(first, head, head + length)) break;
    } else if (!visitor.onToken(queue.take(length), 0, length)) {
      break;
    }
  }
  return count;
}
