/**
 * The byte queue under `StreamReader`: no promises, no transport, only
 * bytes in and bytes out, so it can be tested by feeding it.
 *
 * @module
 */

import { indexOfPair } from "./separators.js";

const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;
const NEWLINE_SEP = Buffer.of(NEWLINE);

// Chunks this small are copied into a growable tail instead of being kept: one
// Buffer object per arriving chunk cost ~180 bytes of heap per byte held when a
// peer sent a line one byte per segment (11 MB for 60,000 bytes). A chunk of at
// least 1 KiB is kept by reference, so the bulk path stays zero-copy and its
// object costs under a fifth of its bytes.
const COPY_BELOW = 1024;
// The first tail is small (an idle connection with a few bytes of a partial
// line should not pin 64 KiB); each next one doubles, so n bytes in one-byte
// chunks make O(log n) chunks until the cap, then one per 64 KiB.
const FIRST_TAIL = 256;
// The first few small chunks are kept as they are: a pipelined burst that
// arrives in two or three pieces and is read at once should not pay for a
// tail (measured: +40 % CPU on a 10 B + 6 B burst); past this many, they are joined.
const KEEP_SMALL = 4;
const MAX_TAIL = 64 * 1024;

let examined = 0;

// The chunk list of every empty queue, shared and never written to (see #push).
const NO_CHUNKS: Buffer[] = [];

/** Receives the lines of `readLinesNow` (and `ChunkQueue.takeLines`). */
export interface LineVisitor {
  /**
   * One line, `\n` included: `bytes[start, end)`, valid only during the call.
   * Return false to stop after it.
   */
  onLine(bytes: Buffer, start: number, end: number): boolean;
}

/**
 * A FIFO of received bytes kept as a few chunks, whose cost is proportional to
 * the bytes it holds however they arrived.
 *
 * - `append` keeps a chunk of 1 KiB or more by reference (zero-copy), and the
 *   first few chunks of any size; a small one arriving behind those is copied
 *   into a growable tail, as asyncio keeps one `bytearray`. So the common "a
 *   chunk or two, read at once" case never copies, and n bytes however cut
 *   make O(log n + n / 1 KiB) chunks.
 * - `find` remembers how far it looked for its separator, so looking again
 *   after each arrival examines only the new bytes: n bytes in one-byte chunks
 *   cost O(n) to search, not O(n²).
 * - `discardLine` drops an over-long line through its `\n`; while that `\n`
 *   has not arrived, `append` drops what arrives up to it (`discarding`).
 *
 * Offsets are logical: 0 is the first byte not yet taken.
 */
export class ChunkQueue {
  #chunks: Buffer[] = NO_CHUNKS;
  /** Bytes of `#chunks[0]` already taken. */
  #head = 0;
  #size = 0;
  // The growable tail: when set, the last chunk is #tail[#tailStart, #tailEnd).
  #tail: Buffer | undefined;
  #tailStart = 0;
  #tailEnd = 0;
  // What `find` learned: no match of #sep starts before logical offset #searched.
  #sep: Buffer | undefined;
  #searched = 0;
  #discarding = false;
  // The chunk views were last cut from, with its ArrayBuffer and offset (see #view).
  #viewed: Buffer | undefined;
  #viewedBuffer: ArrayBufferLike | undefined;
  #viewedOffset = 0;

  /**
   * Bytes examined by every queue's searches since the process started: a
   * counter for tests that check the searches stay linear. Internal.
   */
  static get bytesExamined(): number {
    return examined;
  }

  /** Bytes held. */
  get size(): number {
    return this.#size;
  }

  /** How many chunks hold them (internal: what tests bound for small chunks). */
  get chunkCount(): number {
    return this.#chunks.length;
  }

  /** True while the rest of a line given to {@link ChunkQueue.discardLine} is still being dropped. */
  get discarding(): boolean {
    return this.#discarding;
  }

  /** The first chunk and the offset of its first byte held, for reading lines in place. */
  get front(): Buffer | undefined {
    return this.#chunks[0];
  }

  /** Offset in {@link ChunkQueue.front} of the first byte held. */
  get head(): number {
    return this.#head;
  }

  /**
   * Adds `chunk` at the end (empty chunks are ignored). While discarding, the
   * bytes through the next `\n` are dropped first. The queue may keep `chunk`
   * by reference: the caller must not change it afterwards.
   */
  append(chunk: Buffer): void {
    if (this.#discarding) {
      const newline = chunk.indexOf(NEWLINE);
      examined += newline === -1 ? chunk.length : newline + 1;
      if (newline === -1) return;
      this.#discarding = false;
      chunk = chunk.subarray(newline + 1);
    }
    const n = chunk.length;
    if (n === 0) return;
    this.#size += n;
    if (n >= COPY_BELOW || (this.#tail === undefined && this.#chunks.length < KEEP_SMALL)) {
      this.#push(chunk);
      this.#tail = undefined;
      return;
    }
    let tail = this.#tail;
    if (tail !== undefined && this.#tailEnd + n <= tail.length) {
      chunk.copy(tail, this.#tailEnd);
      this.#tailEnd += n;
      this.#chunks[this.#chunks.length - 1] = tail.subarray(this.#tailStart, this.#tailEnd);
      return;
    }
    const capacity = tail === undefined ? FIRST_TAIL : Math.min(MAX_TAIL, 2 * tail.length);
    tail = Buffer.allocUnsafe(Math.max(capacity, n));
    chunk.copy(tail, 0);
    this.#tail = tail;
    this.#tailStart = 0;
    this.#tailEnd = n;
    this.#push(tail.subarray(0, n));
  }

  /**
   * Logical offset of the first `sep` starting at or after `from`, or -1.
   * Finds separators split across chunks. Stateless: see {@link ChunkQueue.find}.
   */
  indexOf(sep: Buffer, from = 0): number {
    const length = sep.length;
    if (from < 0) from = 0;
    if (length === 0 || from + length > this.#size) return -1;
    const chunks = this.#chunks;
    if (length === 1) {
      // The line search, measured hot: one byte, found in the first chunk.
      const first = chunks[0] as Buffer;
      const offset = this.#head + from;
      if (offset < first.length) {
        const at = first.indexOf(sep[0] as number, offset);
        if (at !== -1) {
          examined += at + 1 - offset;
          return at - this.#head;
        }
      }
    }
    if (length === 2) {
      const first = chunks[0] as Buffer;
      const offset = this.#head + from;
      const at = indexOfPair(first, sep, offset);
      if (at !== -1) {
        examined += at + 2 - offset;
        return at - this.#head;
      }
      if (chunks.length === 1) {
        examined += Math.max(0, first.length - offset);
        return -1;
      }
    }
    const last = chunks.length - 1;
    let base = 0;
    for (let i = 0; i <= last; i++) {
      const chunk = chunks[i] as Buffer;
      const start = i === 0 ? this.#head : 0;
      const end = base + chunk.length - start;
      if (from < end) {
        const offset = start + Math.max(0, from - base);
        const at =
          length === 1 ? chunk.indexOf(sep[0] as number, offset) : chunk.indexOf(sep, offset);
        if (at !== -1) {
          examined += at + length - offset;
          return base + at - start;
        }
        examined += chunk.length - offset;
        if (length > 1 && i < last) {
          const straddling = this.#straddling(sep, i, Math.max(from, end - length + 1), end);
          if (straddling !== -1) return straddling;
        }
      }
      base = end;
    }
    return -1;
  }

  /**
   * {@link ChunkQueue.indexOf} from where the last search for the same separator stopped:
   * bytes already looked through are not examined again, whatever arrived or
   * was taken since. Searching for another separator starts over.
   */
  find(sep: Buffer): number {
    const known = this.#sep;
    if (known !== sep && (known === undefined || !sameBytes(known, sep))) {
      this.#sep = sep;
      this.#searched = 0;
    }
    const at = this.indexOf(sep, this.#searched);
    this.#searched = at !== -1 ? at : Math.max(0, this.#size - sep.length + 1);
    return at;
  }

  /**
   * Hands each whole line within `limit` bytes (not counting its `\n`) to
   * `visitor.onLine(bytes, start, end)`, `\n` included, consuming it, until
   * none is left or `onLine` returns false. A line inside one chunk is handed
   * in place (no allocation); one that straddles chunks is copied first.
   * @returns how many lines were handed over.
   */
  takeLines(limit: number, visitor: LineVisitor): number {
    if (this.#sep !== NEWLINE_SEP) {
      this.#sep = NEWLINE_SEP;
      this.#searched = 0;
    }
    let count = 0;
    let looked = 0;
    // The hot loop of a pipelined line server, kept to one indexOf and a few
    // field writes per line (measured: each extra call here cost ~10 %).
    while (this.#size > 0) {
      const first = this.#chunks[0] as Buffer;
      const head = this.#head;
      const from = head + this.#searched;
      const at = from < first.length ? first.indexOf(NEWLINE, from) : -1;
      if (at === -1) {
        const newline = this.find(NEWLINE_SEP);
        if (newline === -1 || newline > limit) break;
        const line = this.take(newline + 1);
        count++;
        if (!visitor.onLine(line, 0, line.length)) break;
        continue;
      }
      looked += at + 1 - from;
      if (at - head > limit) {
        this.#searched = at - head;
        break;
      }
      const end = at + 1;
      this.#searched = 0;
      if (end < first.length) {
        this.#head = end;
        this.#size -= end - head;
      } else if (this.#size === end - head) {
        this.#clear();
      } else {
        this.#size -= end - head;
        this.#chunks.shift();
        this.#head = 0;
      }
      count++;
      if (!visitor.onLine(first, head, end)) break;
    }
    examined += looked;
    return count;
  }

  /**
   * Removes and returns the first `n` bytes (0 ≤ n ≤ size): a view of a chunk
   * when they lie in one (zero-copy), else a new Buffer.
   * @throws {RangeError} when `n` is out of range.
   */
  take(n: number): Buffer {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.#size) {
      throw new RangeError(`Cannot take ${n} bytes: ${this.#size} are buffered`);
    }
    if (n === 0) return EMPTY;
    const first = this.#chunks[0] as Buffer;
    const head = this.#head;
    if (n < first.length - head) {
      this.#head = head + n;
      this.#size -= n;
      this.#searched = Math.max(0, this.#searched - n);
      return this.#view(first, head, n);
    }
    let result: Buffer;
    if (n === first.length - head) {
      result = head === 0 ? first : first.subarray(head);
    } else {
      result = Buffer.allocUnsafe(n);
      let copied = 0;
      let i = 0;
      let from = head;
      while (copied < n) {
        const chunk = this.#chunks[i++] as Buffer;
        copied += chunk.copy(result, copied, from, Math.min(chunk.length, from + n - copied));
        from = 0;
      }
    }
    this.skip(n);
    return result;
  }

  /** Removes the first `n` bytes (clamped to size) without returning them. */
  skip(n: number): void {
    if (n >= this.#size) {
      this.#clear();
      return;
    }
    const chunks = this.#chunks;
    if (n < (chunks[0] as Buffer).length - this.#head) {
      this.#head += n;
      this.#size -= n;
      this.#searched = Math.max(0, this.#searched - n);
      return;
    }
    let dropped = 0;
    let left = n;
    while (left > 0) {
      const have = (chunks[dropped] as Buffer).length - this.#head;
      if (left < have) {
        this.#head += left;
        break;
      }
      left -= have;
      dropped++;
      this.#head = 0;
    }
    if (dropped > 0) chunks.splice(0, dropped);
    this.#size -= n;
    this.#searched = Math.max(0, this.#searched - n);
  }

  /**
   * Removes and returns the bytes through the first `sep` (included), or
   * returns null consuming nothing when `sep` is not buffered. No limit: the
   * reader applies its own.
   */
  takeThrough(sep: Buffer): Buffer | null {
    const at = this.find(sep);
    return at === -1 ? null : this.take(at + sep.length);
  }

  /**
   * Drops an over-long line: the buffered bytes through the first `\n` at or
   * after `from`. When there is none, drops everything and, if `more` (bytes
   * may still arrive), starts discarding: `append` drops through the next `\n`.
   * @returns whether the line's `\n` was found (so nothing is left to discard).
   */
  discardLine(from = 0, more = true): boolean {
    const newline = this.indexOf(NEWLINE_SEP, from);
    if (newline !== -1) {
      this.skip(newline + 1);
      return true;
    }
    this.#clear();
    this.#discarding = more;
    return false;
  }

  /** Stops discarding (EOF: nothing more will arrive). */
  stopDiscarding(): void {
    this.#discarding = false;
  }

  /**
   * `chunk.subarray(start, start + length)`, cheaper when several views are
   * cut from one chunk (a framing's every token): `subarray` asks the chunk
   * for its ArrayBuffer each time, a native call; this asks once per chunk.
   */
  #view(chunk: Buffer, start: number, length: number): Buffer {
    if (chunk !== this.#viewed) {
      this.#viewed = chunk;
      this.#viewedBuffer = chunk.buffer;
      this.#viewedOffset = chunk.byteOffset;
    }
    return Buffer.from(this.#viewedBuffer as ArrayBuffer, this.#viewedOffset + start, length);
  }

  #push(chunk: Buffer): void {
    if (this.#chunks === NO_CHUNKS) this.#chunks = [chunk];
    else this.#chunks.push(chunk);
  }

  #clear(): void {
    // The shared empty list (length = 0 keeps the array): an idle connection holds no list and no tail.
    this.#chunks = NO_CHUNKS;
    this.#head = 0;
    this.#size = 0;
    this.#tail = undefined;
    this.#searched = 0;
    // A consumed chunk is not kept alive by the view cache.
    this.#viewed = undefined;
    this.#viewedBuffer = undefined;
  }

  /** A match of `sep` starting in [from, end) of chunk `i`'s logical range and running past it. */
  #straddling(sep: Buffer, i: number, from: number, end: number): number {
    const chunks = this.#chunks;
    const chunk = chunks[i] as Buffer;
    const first = sep[0] as number;
    for (let p = from; p < end; p++) {
      let at = chunk.length - (end - p);
      examined++;
      if (chunk[at] !== first) continue;
      let c = i;
      let bytes = chunk;
      let j = 1;
      at++;
      for (; j < sep.length; j++, at++) {
        while (at === bytes.length) {
          if (++c === chunks.length) return -1;
          bytes = chunks[c] as Buffer;
          at = 0;
        }
        examined++;
        if (bytes[at] !== sep[j]) break;
      }
      if (j === sep.length) return p;
    }
    return -1;
  }
}

/** Whether two separators hold the same bytes; short ones compared inline (no native call). */
function sameBytes(a: Buffer, b: Buffer): boolean {
  const length = a.length;
  if (length !== b.length) return false;
  if (length > 8) return a.equals(b);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return false;
  return true;
}
