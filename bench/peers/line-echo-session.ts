/**
 * The line echo of seed 002 (`example1`) for the raw peers, tuned as the calculator's
 * session is: lines found with a byte loop (then `indexOf` past a short line), and a line
 * of printable ASCII answered by copying its bytes between `Echoed: '` and `'\r\n` into
 * one slab, handed out as one view per chunk: no decoding, strings or per-line Buffers on
 * the fast path. Any other line (a byte outside 0x20–0x7e once trailing whitespace is
 * stripped, or a quote or backslash, which `ascii()` escapes or quotes otherwise) is
 * answered by the project's own `lineEchoReply`, so that escaping and UTF-8 errors stay
 * exact without a second copy of them.
 *
 * Replies are asyncnet line-echo-server's byte for byte, limits included: a line longer
 * than 64 KiB is `ERROR. Line too long (more than 65536 bytes)\r\n` and is dropped up to
 * its newline; `quit` is answered `connection closed\r\n` and closes. `lib/transcript.ts`
 * checks this against line-echo-server before every bench run.
 */
import { Buffer } from "node:buffer";
import { lineEchoReply } from "../../src/framing/line-echo.js";

const LIMIT = 65536;
const ascii = (text: string) => Buffer.from(text, "latin1");
const HEAD = ascii("Echoed: '");
const TAIL = ascii("'\r\n");
const QUIT = ascii("quit");
const TOO_LONG = ascii(`ERROR. Line too long (more than ${LIMIT} bytes)\r\n`);
const [QUOTE, BACKSLASH] = [0x27, 0x5c];

/** Whitespace `str.rstrip()` strips in ASCII: `\t \n \v \f \r`, the separators 0x1c–0x1f, space. */
const isStripSpace = (b: number) =>
  b === 0x20 || (b >= 0x09 && b <= 0x0d) || (b >= 0x1c && b <= 0x1f);

// As calc-session.ts: replies built in place in a slab and handed out as views of it.
const SLAB = 64 * 1024;
let slab = Buffer.allocUnsafe(SLAB);
let from = 0;
let used = 0;

function reserve(n: number): void {
  if (used + n <= slab.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(SLAB, 2 * (used - from + n)));
  slab.copy(bigger, 0, from, used);
  used -= from;
  from = 0;
  slab = bigger;
}

/** Appends `bytes[start, end)`: a byte loop for a short run, `copy` for a long one. */
function put(bytes: Uint8Array, start: number, end: number): void {
  const n = end - start;
  reserve(n);
  if (n > 64) {
    slab.set(bytes.subarray(start, end), used);
    used += n;
    return;
  }
  const out = slab;
  let at = used;
  for (let k = start; k < end; k++) out[at++] = bytes[k] as number;
  used = at;
}

function newlineAt(buf: Buffer, at: number): number {
  const stop = Math.min(buf.length, at + 128);
  for (let i = at; i < stop; i++) if (buf[i] === 10) return i;
  return stop === buf.length ? -1 : buf.indexOf(10, stop);
}

/** One connection's line echo: bytes in, reply bytes out, no socket (as `CalcSession`). */
export class LineEchoSession {
  #rest: Buffer | null = null;
  #dropping = false;
  #closed = false;

  /** Whether `quit` was answered or the input ended: the caller sends the last bytes and closes. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The replies to every line completed by `data`, in one Buffer, or null for none. */
  feed(data: Uint8Array): Buffer | null {
    if (this.#closed) return null;
    const chunk = Buffer.isBuffer(data)
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.length);
    let buf = chunk;
    let start = 0;
    if (this.#dropping) {
      const nl = chunk.indexOf(10);
      if (nl < 0) return null;
      this.#dropping = false;
      start = nl + 1;
    } else if (this.#rest !== null) {
      buf = Buffer.concat([this.#rest, chunk]);
      this.#rest = null;
    }
    used = from;
    for (;;) {
      const nl = newlineAt(buf, start);
      if (nl < 0) break;
      this.#answer(buf, start, nl);
      start = nl + 1;
      if (this.#closed) break;
    }
    if (!this.#closed && start < buf.length) {
      if (buf.length - start > LIMIT) {
        put(TOO_LONG, 0, TOO_LONG.length);
        this.#dropping = true;
      } else {
        this.#rest = Buffer.from(buf.subarray(start));
      }
    }
    return this.#take();
  }

  /** The input ended: the reply to a last line without its newline, or null. */
  end(): Buffer | null {
    if (this.#closed) return null;
    used = from;
    const rest = this.#rest;
    this.#rest = null;
    if (rest !== null) this.#answer(rest, 0, rest.length);
    this.#closed = true;
    return this.#take();
  }

  #take(): Buffer | null {
    if (used === from) return null;
    const out = slab.subarray(from, used);
    from = used;
    if (slab.length - used < 4096) {
      slab = Buffer.allocUnsafe(SLAB);
      from = used = 0;
    }
    return out;
  }

  #answer(buf: Buffer, start: number, end: number): void {
    if (end - start > LIMIT) return put(TOO_LONG, 0, TOO_LONG.length);
    let stripped = end;
    while (stripped > start && isStripSpace(buf[stripped - 1] as number)) stripped--;
    let plain = true;
    for (let i = start; i < stripped; i++) {
      const b = buf[i] as number;
      if (b < 0x20 || b > 0x7e || b === QUOTE || b === BACKSLASH) {
        plain = false;
        break;
      }
    }
    if (!plain) {
      const { reply, close } = lineEchoReply(buf.subarray(start, end));
      put(reply, 0, reply.length);
      if (close) this.#closed = true;
      return;
    }
    if (stripped - start === QUIT.length && buf.compare(QUIT, 0, 4, start, stripped) === 0) {
      const { reply } = lineEchoReply(QUIT);
      put(reply, 0, reply.length);
      this.#closed = true;
      return;
    }
    put(HEAD, 0, HEAD.length);
    put(buf, start, stripped);
    put(TAIL, 0, TAIL.length);
  }
}
