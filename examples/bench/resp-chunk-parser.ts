/**
 * RESP framing over raw `data` chunks, for the raw-kv-server yardstick: it
 * accepts and rejects exactly what kv-server/resp-reader.ts does, with the
 * same messages, but parses by `indexOf` over the chunk and keeps only the
 * half-arrived command's bytes between chunks.
 *
 * @module
 */

import { MAX_ARGS, MAX_BULK } from "../kv-server/resp-reader.js";

/** The longest line looked through for its `\r\n`: the StreamReader's default `limit`. */
export const LINE_LIMIT = 64 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const STAR = 0x2a;
const DOLLAR = 0x24;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

/** Thrown inside the parser only; {@link RespChunkParser.error} carries its message out. */
class Malformed extends Error {}

/** One connection's parser state: the bytes of a command not yet whole. */
export class RespChunkParser {
  #tail: Buffer | null = null;
  /** The command just parsed, or null for an empty one (`*0`, a blank inline line). */
  #args: Buffer[] | null = null;
  /** The message after `-ERR Protocol error: ` once input was malformed, else null. */
  error: string | null = null;

  /**
   * Calls `onCommand` for every whole command in `chunk` (after what was kept
   * of the previous one), in order, and keeps the rest. Stops early, returning
   * true, when `onCommand` returns true (`QUIT`); stops at malformed input,
   * setting {@link error}.
   */
  feed(chunk: Buffer, onCommand: (args: Buffer[]) => boolean): boolean {
    const buf = this.#tail === null ? chunk : Buffer.concat([this.#tail, chunk]);
    this.#tail = null;
    let at = 0;
    try {
      while (at < buf.length) {
        const end = buf[at] === STAR ? this.#multibulk(buf, at) : this.#inline(buf, at);
        if (end < 0) break;
        at = end;
        if (this.#args !== null && onCommand(this.#args)) return true;
      }
    } catch (error) {
      if (!(error instanceof Malformed)) throw error;
      this.error = error.message;
      return false;
    }
    if (at < buf.length) this.#tail = buf.subarray(at);
    return false;
  }

  /** Parses `*N\r\n` and its N bulks from `at`; the offset past them, or -1 if not all here. */
  #multibulk(buf: Buffer, at: number): number {
    const eol = lineEnd(buf, at);
    if (eol < 0) return -1;
    const count = parseCount(buf, at + 1, eol, MAX_ARGS, "multibulk length");
    let p = eol + 2;
    if (count <= 0) {
      this.#args = null;
      return p;
    }
    const args = new Array<Buffer>(count);
    for (let i = 0; i < count; i++) {
      if (p >= buf.length) return -1;
      const headerEnd = lineEnd(buf, p);
      if (headerEnd < 0) return -1;
      if (buf[p] !== DOLLAR) {
        throw new Malformed(`expected '$', got '${String.fromCharCode(buf[p] as number)}'`);
      }
      const size = parseCount(buf, p + 1, headerEnd, MAX_BULK, "bulk length");
      if (size < 0) throw new Malformed("invalid bulk length");
      p = headerEnd + 2;
      if (p + size + 2 > buf.length) return -1;
      if (buf[p + size] !== CR || buf[p + size + 1] !== LF) {
        throw new Malformed("bulk string not followed by CRLF");
      }
      args[i] = buf.subarray(p, p + size);
      p += size + 2;
    }
    this.#args = args;
    return p;
  }

  /** Parses an inline line (`GET k\r\n`) from `at`; the offset past it, or -1. */
  #inline(buf: Buffer, at: number): number {
    const eol = lineEnd(buf, at);
    if (eol < 0) return -1;
    const text = buf.toString("latin1", at, eol).trim();
    this.#args =
      text.length === 0 ? null : text.split(/[ \t]+/).map((w) => Buffer.from(w, "latin1"));
    return eol + 2;
  }
}

/**
 * Where the line starting at `at` has its `\r\n`, or -1 if it has not
 * arrived; past {@link LINE_LIMIT} bytes the request is too big (as the
 * reader's `LimitOverrunError`).
 */
function lineEnd(buf: Buffer, at: number): number {
  const eol = buf.indexOf("\r\n", at, "latin1");
  if (eol >= 0) {
    if (eol - at > LINE_LIMIT) throw new Malformed("too big inline request");
    return eol;
  }
  if (buf.length - at - 1 > LINE_LIMIT) throw new Malformed("too big inline request");
  return -1;
}

/** `-?\d{1,10}` in `buf[from, to)` as a number, at most `max`; else Malformed. */
function parseCount(buf: Buffer, from: number, to: number, max: number, what: string): number {
  let p = from;
  const negative = buf[p] === MINUS;
  if (negative) p++;
  const digits = to - p;
  if (digits < 1 || digits > 10) throw new Malformed(`invalid ${what}`);
  let value = 0;
  for (; p < to; p++) {
    const c = buf[p] as number;
    if (c < ZERO || c > NINE) throw new Malformed(`invalid ${what}`);
    value = value * 10 + (c - ZERO);
  }
  if (negative) value = -value;
  if (value > max) throw new Malformed(`invalid ${what}`);
  return value;
}
