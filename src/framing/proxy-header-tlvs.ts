/**
 * The TLVs of a PROXY v2 header (spec 2.2.1-2.2.7), decoded.
 *
 * @module
 */

import type { ProxyRawTlv, ProxySslTlv, ProxyTlvs } from "./proxy-header.js";

/** The most bytes a `PP2_TYPE_UNIQUE_ID` value may have (spec 2.2.5). */
export const MAX_UNIQUE_ID_BYTES = 128;

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** What the v2 parser needs besides the TLVs: where the checksum sits, to verify it. */
export interface DecodedProxyTlvs {
  tlvs: ProxyTlvs;
  /** Offset in the header of the CRC32C TLV's 4-byte value, or -1 without one. */
  crcOffset: number;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(2, "0")}`;

/** Splits `buf[start..end)` into TLVs; a detail string when one runs past `end`. */
function split(buf: Buffer, start: number, end: number, what: string): ProxyRawTlv[] | string {
  const out: ProxyRawTlv[] = [];
  let pos = start;
  while (pos < end) {
    if (end - pos < 3)
      return `${what} at offset ${pos} is truncated: ${end - pos} of its 3 type and length bytes`;
    const type = buf[pos] as number;
    const length = buf.readUInt16BE(pos + 1);
    if (length > end - pos - 3) {
      return `${what} ${hex(type)} at offset ${pos} declares ${length} bytes, only ${end - pos - 3} left`;
    }
    out.push({ type, value: buf.subarray(pos + 3, pos + 3 + length) });
    pos += 3 + length;
  }
  return out;
}

function text(value: Buffer, what: string): string | { error: string } {
  try {
    return UTF8.decode(value);
  } catch {
    return { error: `${what} is not valid UTF-8` };
  }
}

const SSL_STRINGS: Record<number, keyof ProxySslTlv> = {
  0x21: "version",
  0x22: "cn",
  0x23: "cipher",
  0x24: "sigAlg",
  0x25: "keyAlg",
  0x26: "group",
  0x27: "sigScheme",
};

function decodeSsl(buf: Buffer, start: number, end: number): ProxySslTlv | string {
  if (end - start < 5)
    return `SSL TLV has ${end - start} bytes, fewer than its 5 client and verify bytes`;
  const client = buf[start] as number;
  const raw = split(buf, start + 5, end, "SSL sub-TLV");
  if (typeof raw === "string") return raw;
  const ssl: ProxySslTlv = {
    client,
    ssl: (client & 0x01) !== 0,
    certConn: (client & 0x02) !== 0,
    certSess: (client & 0x04) !== 0,
    verify: buf.readUInt32BE(start + 1),
    raw,
  };
  for (const { type, value } of raw) {
    const key = type === 0x28 ? "clientCert" : SSL_STRINGS[type];
    if (key === undefined) continue;
    if (ssl[key] !== undefined) return `SSL sub-TLV ${hex(type)} appears twice`;
    if (key === "clientCert") {
      ssl.clientCert = value;
      continue;
    }
    const s = text(value, `SSL sub-TLV ${hex(type)}`);
    if (typeof s !== "string") return s.error;
    (ssl as unknown as Record<string, string>)[key] = s;
  }
  return ssl;
}

/**
 * Decodes the TLVs in `header[start..header.length)`. Values are views of
 * `header`. Returns a detail string for: a TLV running past the end, a second
 * TLV of a decoded type (all but NOOP), a CRC32C value that is not 4 bytes, a
 * UNIQUE_ID over 128 bytes, an SSL TLV under 5 bytes or with a bad sub-TLV,
 * and AUTHORITY, NETNS or SSL strings that are not UTF-8. The checksum itself
 * is verified by the caller, which has the whole header.
 */
export function decodeProxyTlvs(header: Buffer, start: number): DecodedProxyTlvs | string {
  const raw = split(header, start, header.length, "TLV");
  if (typeof raw === "string") return raw;
  const tlvs: ProxyTlvs = { raw };
  let crcOffset = -1;
  let pos = start;
  const seen = new Set<number>();
  for (const { type, value } of raw) {
    const at = pos;
    pos += 3 + value.length;
    if (type === 0x04) {
      tlvs.noop = (tlvs.noop ?? 0) + 1;
      continue;
    }
    const known = (type >= 0x01 && type <= 0x05) || type === 0x20 || type === 0x30;
    if (!known) continue;
    if (seen.has(type)) return `TLV ${hex(type)} appears twice`;
    seen.add(type);
    switch (type) {
      case 0x01:
        tlvs.alpn = value;
        break;
      case 0x02:
      case 0x30: {
        const s = text(value, type === 0x02 ? "AUTHORITY TLV" : "NETNS TLV");
        if (typeof s !== "string") return s.error;
        if (type === 0x02) tlvs.authority = s;
        else tlvs.netns = s;
        break;
      }
      case 0x03:
        if (value.length !== 4) return `CRC32C TLV has ${value.length} bytes instead of 4`;
        tlvs.crc32c = value.readUInt32BE(0);
        crcOffset = at + 3;
        break;
      case 0x05:
        if (value.length > MAX_UNIQUE_ID_BYTES) {
          return `UNIQUE_ID TLV has ${value.length} bytes, more than ${MAX_UNIQUE_ID_BYTES}`;
        }
        tlvs.uniqueId = value;
        break;
      case 0x20: {
        const ssl = decodeSsl(header, at + 3, pos);
        if (typeof ssl === "string") return ssl;
        tlvs.ssl = ssl;
        break;
      }
      default:
        break;
    }
  }
  return { tlvs, crcOffset };
}
