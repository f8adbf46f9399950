/**
 * An incremental parser of the PROXY protocol header (v1 and v2) that a load
 * balancer puts before a connection's first byte. No sockets, no promises.
 *
 * @module
 */

import { InvalidStateError, ProxyHeaderError } from "../errors.js";
import type { ProxyHeader } from "./proxy-header.js";
import { parseProxyV1Line } from "./proxy-header-v1.js";
import { PROXY_V2_SIGNATURE, parseProxyV2 } from "./proxy-header-v2.js";

/** The longest v1 line, CRLF included (spec 2.1: `PROXY UNKNOWN` with two full IPv6 addresses). */
export const PROXY_V1_MAX_BYTES = 107;
/** The longest v2 header the protocol can express: 16 fixed bytes + a 65535-byte length field. */
export const PROXY_V2_MAX_BYTES = 16 + 65535;
/**
 * The default cap on a v2 header, 4096 bytes: room for AF_UNIX (232 bytes) and
 * every TLV HAProxy sends, SSL strings included, while a connection that has
 * not yet proved anything holds at most 4 KiB. A proxy that forwards client
 * certificates (`PP2_SUBTYPE_SSL_CLIENT_CERT`) may need more: raise
 * `maxHeaderBytes` up to {@link PROXY_V2_MAX_BYTES}.
 */
export const DEFAULT_PROXY_HEADER_MAX_BYTES = 4096;

/** Options of a {@link ProxyHeaderParser}. */
export interface ProxyHeaderParserOptions {
  /**
   * Most bytes a v2 header may take, its 16 fixed bytes included. A header
   * whose length field says more fails as soon as those 16 bytes are in,
   * without waiting for the rest. Integer 16..65551; default
   * {@link DEFAULT_PROXY_HEADER_MAX_BYTES} (4096). v1 lines are always capped
   * at 107 bytes by the spec.
   */
  maxHeaderBytes?: number;
}

/**
 * What {@link ProxyHeaderParser.push} answers:
 * - `incomplete`: every byte so far belongs to a header that can still be
 *   valid; push more.
 * - `complete`: the header is valid. `consumed` bytes of the chunk just pushed
 *   were its last ones; `rest` is the rest of that chunk (a view of it, maybe
 *   empty), the application's first bytes.
 * - `error`: the header is invalid; close the connection.
 */
export type ProxyHeaderResult =
  | {
      /** More bytes are needed. */
      readonly status: "incomplete";
    }
  | {
      /** The header is whole and valid. */
      readonly status: "complete";
      /** The parsed header. */
      readonly header: ProxyHeader;
      /** How many bytes of the last chunk pushed were the header's. */
      readonly consumed: number;
      /** The bytes after the header in that chunk: the connection's first payload. */
      readonly rest: Buffer;
    }
  | {
      /** The bytes are not a valid PROXY header. */
      readonly status: "error";
      /** Why, with the offending byte or field. */
      readonly error: ProxyHeaderError;
    };

/**
 * The parser's state: `signature` (matching `PROXY ` or the 12-byte v2
 * signature), `v1-line` (waiting for CRLF), `v2-fixed` (bytes 13..16),
 * `v2-body` (the length field's bytes), then `complete` or `failed`.
 */
export type ProxyHeaderParserState =
  "signature" | "v1-line" | "v2-fixed" | "v2-body" | "complete" | "failed";

const INCOMPLETE: ProxyHeaderResult = Object.freeze({ status: "incomplete" });
const V1_PREFIX = Buffer.from("PROXY ", "latin1");
const V1_WORDS = ["TCP4 ", "TCP6 ", "UNKNOWN ", "UNKNOWN\r"];
const CR = 0x0d;
const LF = 0x0a;

const byteHex = (b: number): string => `0x${b.toString(16).padStart(2, "0")}`;

/**
 * Parses one PROXY header from the bytes a connection receives first, pushed
 * in pieces of any size (one byte, the whole header and more, empty chunks).
 *
 * The header is required, never guessed (spec 2, 5): the first byte must be
 * `P` (v1) or `\r` (v2), and every byte is checked as it arrives, so a peer
 * that does not speak the protocol fails at its first wrong byte, not after
 * 107 bytes or a timeout. Also checked early: the v1 protocol word, a bare CR
 * or LF in a v1 line, the v2 version and command (byte 13), family and
 * transport (byte 14), and the v2 length against `maxHeaderBytes` (bytes 15-16).
 *
 * v1: `PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n` with strict addresses
 * and ports, or `PROXY UNKNOWN...\r\n`; at most 107 bytes. v2: version 2,
 * `LOCAL` or `PROXY`, families AF_UNSPEC/INET/INET6/UNIX, transports
 * UNSPEC/STREAM/DGRAM, TLVs decoded and a CRC32C TLV verified (see
 * {@link ProxyHeader} and {@link ProxyTlvs}).
 *
 * No method throws for bad input: errors are results. Once the result is
 * `error`, every later `push` or `end` returns the same error. The parser
 * copies the header bytes it keeps, so the caller may reuse a chunk after
 * `push` returns; only `rest` is a view of the chunk.
 */
export class ProxyHeaderParser {
  readonly #maxHeaderBytes: number;
  #state: ProxyHeaderParserState = "signature";
  /** The header's bytes so far; grown to the v2 total once the length is known. */
  #buf: Buffer = Buffer.alloc(PROXY_V1_MAX_BYTES);
  #have = 0;
  #need = 0;
  #prefix: Buffer = V1_PREFIX;
  #result: ProxyHeaderResult = INCOMPLETE;

  /**
   * @throws {TypeError} when `maxHeaderBytes` is not a number.
   * @throws {RangeError} when `maxHeaderBytes` is not an integer in 16..65551.
   */
  constructor(options: ProxyHeaderParserOptions = {}) {
    const max = options.maxHeaderBytes ?? DEFAULT_PROXY_HEADER_MAX_BYTES;
    if (typeof max !== "number") {
      throw new TypeError(`Invalid maxHeaderBytes: expected a number, got ${typeof max}`);
    }
    if (!Number.isInteger(max) || max < 16 || max > PROXY_V2_MAX_BYTES) {
      throw new RangeError(
        `Invalid maxHeaderBytes: expected an integer from 16 to ${PROXY_V2_MAX_BYTES}, got ${max}`,
      );
    }
    this.#maxHeaderBytes = max;
  }

  /** Where the parser is; see {@link ProxyHeaderParserState}. */
  get state(): ProxyHeaderParserState {
    return this.#state;
  }

  /** How many header bytes the parser holds (all bytes pushed so far until the header completes). */
  get bytesReceived(): number {
    return this.#have;
  }

  /**
   * Takes the next bytes of the connection. See {@link ProxyHeaderResult}.
   *
   * @throws {InvalidStateError} when called after a `complete` result: the
   *   bytes after the header are the application's, not the parser's.
   */
  push(chunk: Uint8Array): ProxyHeaderResult {
    if (this.#state === "complete") {
      throw new InvalidStateError("Cannot push: the PROXY header is already complete");
    }
    if (this.#state === "failed") return this.#result;
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      switch (this.#state) {
        case "signature": {
          const b = chunk[pos] as number;
          if (this.#have === 0) {
            if (b === CR) this.#prefix = PROXY_V2_SIGNATURE;
            else if (b !== 0x50) {
              return this.#fail(
                `first byte ${byteHex(b)} starts neither "PROXY " (v1) nor the v2 signature`,
              );
            }
          } else if (b !== this.#prefix[this.#have]) {
            const v = this.#prefix === V1_PREFIX ? 'v1 "PROXY "' : "v2 signature";
            return this.#fail(`byte ${this.#have} is ${byteHex(b)}, not the ${v}`);
          }
          this.#buf[this.#have++] = b;
          pos++;
          if (this.#have === this.#prefix.length) {
            this.#state = this.#prefix === V1_PREFIX ? "v1-line" : "v2-fixed";
          }
          break;
        }
        case "v1-line": {
          const b = chunk[pos++] as number;
          const previous = this.#buf[this.#have - 1];
          this.#buf[this.#have++] = b;
          if (previous === CR) {
            if (b !== LF)
              return this.#fail(`v1 line has a CR not followed by LF at byte ${this.#have - 2}`);
            const line = this.#buf.toString("latin1", 0, this.#have - 2);
            const parsed = parseProxyV1Line(line);
            if (typeof parsed === "string") return this.#fail(parsed);
            return this.#complete(parsed, chunk, pos);
          }
          if (b === LF) return this.#fail(`v1 line has an LF without CR at byte ${this.#have - 1}`);
          if (this.#have <= 6 + 8 && !this.#wordCanMatch()) {
            const word = this.#buf.toString("latin1", 6, this.#have);
            return this.#fail(`v1 protocol ${JSON.stringify(word)} is not TCP4, TCP6 or UNKNOWN`);
          }
          if (this.#have === PROXY_V1_MAX_BYTES) {
            return this.#fail(`v1 line has no CRLF within ${PROXY_V1_MAX_BYTES} bytes`);
          }
          break;
        }
        case "v2-fixed": {
          const b = chunk[pos++] as number;
          this.#buf[this.#have++] = b;
          if (this.#have === 13 && ((b & 0xf0) !== 0x20 || (b & 0x0f) > 1)) {
            if ((b & 0xf0) !== 0x20) return this.#fail(`v2 version is ${b >> 4}, not 2`);
            return this.#fail(`v2 command is ${b & 0x0f}, neither LOCAL (0) nor PROXY (1)`);
          }
          if (this.#have === 14 && (b >> 4 > 3 || (b & 0x0f) > 2)) {
            if (b >> 4 > 3) return this.#fail(`v2 address family is ${b >> 4}, not 0..3`);
            return this.#fail(`v2 transport is ${b & 0x0f}, not 0..2`);
          }
          if (this.#have === 16) {
            this.#need = 16 + this.#buf.readUInt16BE(14);
            if (this.#need > this.#maxHeaderBytes) {
              return this.#fail(
                `v2 header of ${this.#need} bytes exceeds the limit of ${this.#maxHeaderBytes}`,
              );
            }
            const whole = Buffer.alloc(this.#need);
            this.#buf.copy(whole, 0, 0, 16);
            this.#buf = whole;
            this.#state = "v2-body";
            if (this.#need === 16) return this.#finishV2(chunk, pos);
          }
          break;
        }
        case "v2-body": {
          const take = Math.min(this.#need - this.#have, n - pos);
          this.#buf.set(chunk.subarray(pos, pos + take), this.#have);
          this.#have += take;
          pos += take;
          if (this.#have === this.#need) return this.#finishV2(chunk, pos);
          break;
        }
        default:
          return this.#result;
      }
    }
    return INCOMPLETE;
  }

  /**
   * Tells the parser the connection ended (EOF). Returns an `error` result
   * unless the header was already complete (then the `complete` result again,
   * with `consumed` and `rest` of the push that completed it).
   */
  end(): ProxyHeaderResult {
    if (this.#state === "complete" || this.#state === "failed") return this.#result;
    return this.#fail(`connection ended after ${this.#have} bytes, before the header was complete`);
  }

  #wordCanMatch(): boolean {
    const word = this.#buf.toString("latin1", 6, this.#have);
    return V1_WORDS.some((w) => w.startsWith(word) || word.startsWith(w));
  }

  #finishV2(chunk: Uint8Array, pos: number): ProxyHeaderResult {
    const parsed = parseProxyV2(this.#buf);
    if (typeof parsed === "string") return this.#fail(parsed);
    return this.#complete(parsed, chunk, pos);
  }

  #complete(header: ProxyHeader, chunk: Uint8Array, pos: number): ProxyHeaderResult {
    this.#state = "complete";
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#result = { status: "complete", header, consumed: pos, rest: view.subarray(pos) };
    return this.#result;
  }

  #fail(detail: string): ProxyHeaderResult {
    this.#state = "failed";
    this.#result = {
      status: "error",
      error: new ProxyHeaderError(`Cannot parse PROXY header: ${detail}`),
    };
    return this.#result;
  }
}
