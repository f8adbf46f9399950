/**
 * Bytes of PROXY protocol headers written by hand, and a parser driver, for
 * the tests of `ProxyHeaderParser` (split by subject over several files).
 */
import assert from "node:assert/strict";
import type { ProxyHeaderError } from "../../src/errors.js";
import type { ProxyHeader } from "../../src/framing/proxy-header.js";
import { crc32c } from "../../src/framing/proxy-header-crc32c.js";
import {
  ProxyHeaderParser,
  type ProxyHeaderParserOptions,
  type ProxyHeaderResult,
} from "../../src/framing/proxy-header-parser.js";

export const SIG = "0d0a0d0a000d0a515549540a";
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
export const latin1 = (s: string): Buffer => Buffer.from(s, "latin1");

/** A v2 header from its parts in hex: the length field is filled in. */
export function v2(verCmd: string, famProto: string, body: string): Buffer {
  const b = hex(body);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([hex(SIG + verCmd + famProto), len, b]);
}

/** Writes the CRC32C into the 4 bytes at `at` (zero there already), as a sender does. */
export function withCrc(header: Buffer, at: number): Buffer {
  const out = Buffer.from(header);
  out.writeUInt32BE(crc32c(out), at);
  return out;
}

export interface Fed {
  result: ProxyHeaderResult;
  /** Every byte after the header: `rest` of the completing push plus the chunks not pushed. */
  after: Buffer;
  /** Bytes consumed over all pushes. */
  consumed: number;
}

/** Pushes chunks until a result other than incomplete; then `end()` if all were pushed. */
export function feed(chunks: Buffer[], options?: ProxyHeaderParserOptions): Fed {
  const parser = new ProxyHeaderParser(options);
  let consumed = 0;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] as Buffer;
    const result = parser.push(chunk);
    if (result.status === "incomplete") {
      consumed += chunk.length;
      continue;
    }
    if (result.status === "error") return { result, after: Buffer.alloc(0), consumed };
    const after = Buffer.concat([result.rest, ...chunks.slice(i + 1)]);
    return { result, after, consumed: consumed + result.consumed };
  }
  return { result: parser.end(), after: Buffer.alloc(0), consumed };
}

export function header(bytes: Buffer, options?: ProxyHeaderParserOptions): ProxyHeader {
  const { result } = feed([bytes], options);
  if (result.status !== "complete") {
    assert.fail(
      `expected a header, got ${result.status === "error" ? result.error.message : "incomplete"}`,
    );
  }
  return result.header;
}

export function errorOf(chunks: Buffer[], options?: ProxyHeaderParserOptions): ProxyHeaderError {
  const { result } = feed(chunks, options);
  assert.equal(result.status, "error", "expected an error");
  return (result as { error: ProxyHeaderError }).error;
}

export const inet = (address: string, port: number) => ({ address, port });

/** One TLV in hex, written by hand here so the tests do not lean on the builder. */
export function tlvHex(type: number, value: Buffer | string): string {
  const v = typeof value === "string" ? latin1(value) : value;
  return (
    type.toString(16).padStart(2, "0") + v.length.toString(16).padStart(4, "0") + v.toString("hex")
  );
}

export const SSL_BODY =
  "07 00000000" + // client: SSL | CERT_CONN | CERT_SESS; verify 0
  tlvHex(0x21, "TLSv1.3") +
  tlvHex(0x22, "example.com") +
  tlvHex(0x23, "TLS_AES_128_GCM_SHA256") +
  tlvHex(0x24, "RSA-SHA256") +
  tlvHex(0x25, "RSA2048") +
  tlvHex(0x26, "secp256r1") +
  tlvHex(0x28, hex("308100")) +
  tlvHex(0x2f, hex("aa"));
