/**
 * The PROXY v2 (binary) header a client side sends.
 *
 * @module
 */

import { crc32c } from "./proxy-header-crc32c.js";
import { encodeIp } from "./proxy-header-ip-encode.js";
import { MAX_UNIQUE_ID_BYTES } from "./proxy-header-tlvs.js";
import {
  PROXY_V2_ADDRESS_BYTES,
  PROXY_V2_FAMILIES,
  PROXY_V2_SIGNATURE,
  PROXY_V2_TRANSPORTS,
} from "./proxy-header-v2.js";
import type { ProxyAddress, ProxyFamily, ProxyTransport } from "./proxy-header.js";

/** The `PP2_TYPE_SSL` TLV to send. Strings are written as UTF-8. */
export interface ProxySslTlvInput {
  /** The `client` bit field (0x01 SSL, 0x02 cert on connection, 0x04 cert in session). */
  client: number;
  /** The `verify` field, unsigned 32-bit: 0 when a client certificate was verified. */
  verify: number;
  /** `PP2_SUBTYPE_SSL_VERSION` (0x21), e.g. `"TLSv1.3"`. */
  version?: string;
  /** `PP2_SUBTYPE_SSL_CN` (0x22): the client certificate's Common Name. */
  cn?: string;
  /** `PP2_SUBTYPE_SSL_CIPHER` (0x23), e.g. `"ECDHE-RSA-AES128-GCM-SHA256"`. */
  cipher?: string;
  /** `PP2_SUBTYPE_SSL_SIG_ALG` (0x24), e.g. `"RSA-SHA256"`. */
  sigAlg?: string;
  /** `PP2_SUBTYPE_SSL_KEY_ALG` (0x25), e.g. `"RSA2048"`. */
  keyAlg?: string;
  /** `PP2_SUBTYPE_SSL_GROUP` (0x26), e.g. `"secp256r1"`. */
  group?: string;
  /** `PP2_SUBTYPE_SSL_SIG_SCHEME` (0x27), e.g. `"rsa_pss_rsae_sha256"`. */
  sigScheme?: string;
  /** DER. */
  clientCert?: Uint8Array;
  /** More sub-TLVs, written after the named ones, in order. */
  raw?: readonly {
    /** The TLV's type byte, 0..255. */
    type: number;
    /** Its value, without type and length; at most 65535 bytes. */
    value: Uint8Array;
  }[];
}

/**
 * TLVs to send, written in this order: alpn, authority, uniqueId, ssl, netns,
 * noop, then `raw` in order, then the CRC32C TLV when `crc32c` asks for one.
 */
export interface ProxyTlvsInput {
  /** `PP2_TYPE_ALPN`; a string is written as latin1 (`"h2"`). */
  alpn?: Uint8Array | string;
  /** `PP2_TYPE_AUTHORITY`, UTF-8. */
  authority?: string;
  /** `PP2_TYPE_UNIQUE_ID`, at most 128 bytes. */
  uniqueId?: Uint8Array;
  /** `PP2_TYPE_SSL` with its sub-TLVs. */
  ssl?: ProxySslTlvInput;
  /** `PP2_TYPE_NETNS`, UTF-8. */
  netns?: string;
  /** A `PP2_TYPE_NOOP` with this many zero bytes of padding. */
  noop?: number;
  /** TLVs written as given (any type, the registered ones included). */
  raw?: readonly {
    /** The TLV's type byte, 0..255. */
    type: number;
    /** Its value, without type and length; at most 65535 bytes. */
    value: Uint8Array;
  }[];
}

/** Options of {@link buildProxyHeaderV2}. */
export interface ProxyHeaderV2Options {
  /** Default `"proxy"`; `"local"` is a health check by the proxy itself. */
  command?: "proxy" | "local";
  /**
   * Default: from the addresses (`"inet"`, `"inet6"`, or `"unix"` for
   * `{ path }`), `"unspec"` without addresses. Given without addresses (only
   * allowed with `LOCAL`), the address block is written as zeros.
   */
  family?: ProxyFamily;
  /** Default `"stream"` with addresses, `"unspec"` without. */
  transport?: ProxyTransport;
  /** Required with `PROXY` unless the family is `"unspec"`; both or neither. */
  source?: ProxyAddress;
  /** The address the client connected to; see {@link source}. */
  destination?: ProxyAddress;
  /** TLVs to append after the addresses. Default: none. */
  tlvs?: ProxyTlvsInput;
  /**
   * Checksum the header (default false): the CRC32C is computed over the whole
   * header and written into the first type-0x03 TLV of `tlvs.raw` if there is
   * one (it must be 4 bytes), else into a CRC32C TLV appended last.
   */
  crc32c?: boolean;
}

function tlv(type: number, value: Uint8Array): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 255) {
    throw new RangeError(`Invalid TLV type: expected an integer from 0 to 255, got ${type}`);
  }
  if (value.length > 65535)
    throw new RangeError(`Invalid TLV 0x${type.toString(16)}: ${value.length} bytes exceed 65535`);
  const out = Buffer.alloc(3 + value.length);
  out[0] = type;
  out.writeUInt16BE(value.length, 1);
  out.set(value, 3);
  return out;
}

function sslValue(ssl: ProxySslTlvInput): Buffer {
  const head = Buffer.alloc(5);
  if (!Number.isInteger(ssl.client) || ssl.client < 0 || ssl.client > 255) {
    throw new RangeError(
      `Invalid SSL client field: expected an integer from 0 to 255, got ${ssl.client}`,
    );
  }
  if (!Number.isInteger(ssl.verify) || ssl.verify < 0 || ssl.verify > 0xffffffff) {
    throw new RangeError(
      `Invalid SSL verify field: expected an unsigned 32-bit integer, got ${ssl.verify}`,
    );
  }
  head[0] = ssl.client;
  head.writeUInt32BE(ssl.verify, 1);
  const parts: Buffer[] = [head];
  const strings: [number, string | undefined][] = [
    [0x21, ssl.version],
    [0x22, ssl.cn],
    [0x23, ssl.cipher],
    [0x24, ssl.sigAlg],
    [0x25, ssl.keyAlg],
    [0x26, ssl.group],
    [0x27, ssl.sigScheme],
  ];
  for (const [type, s] of strings)
    if (s !== undefined) parts.push(tlv(type, Buffer.from(s, "utf8")));
  if (ssl.clientCert !== undefined) parts.push(tlv(0x28, ssl.clientCert));
  for (const r of ssl.raw ?? []) parts.push(tlv(r.type, r.value));
  return Buffer.concat(parts);
}

function addressBlock(
  family: ProxyFamily,
  source?: ProxyAddress,
  destination?: ProxyAddress,
): Buffer {
  const size = PROXY_V2_ADDRESS_BYTES[PROXY_V2_FAMILIES.indexOf(family)] as number;
  const block = Buffer.alloc(size);
  if (source === undefined || destination === undefined) return block;
  if (family === "unix") {
    [source, destination].forEach((a, i) => {
      if (!("path" in a) || typeof a.path !== "string")
        throw new TypeError("Invalid AF_UNIX address: expected { path }");
      const bytes = Buffer.from(a.path, "utf8");
      if (bytes.length > 108)
        throw new RangeError(`Invalid AF_UNIX path: ${bytes.length} bytes exceed 108`);
      block.set(bytes, i * 108);
    });
    return block;
  }
  const ipSize = family === "inet" ? 4 : 16;
  [source, destination].forEach((a, i) => {
    const what = i === 0 ? "source" : "destination";
    if (!("address" in a) || typeof a.address !== "string") {
      throw new TypeError(`Invalid ${what}: expected { address, port }`);
    }
    const bytes = encodeIp(a.address);
    if (bytes?.length !== ipSize) {
      throw new RangeError(
        `Invalid ${what} address: ${JSON.stringify(a.address)} is not an ${family} address`,
      );
    }
    if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) {
      throw new RangeError(
        `Invalid ${what} port: expected an integer from 0 to 65535, got ${a.port}`,
      );
    }
    block.set(bytes, i * ipSize);
    block.writeUInt16BE(a.port, 2 * ipSize + i * 2);
  });
  return block;
}

function inferFamily(source: ProxyAddress | undefined): ProxyFamily {
  if (source === undefined) return "unspec";
  if ("path" in source) return "unix";
  const bytes = typeof source.address === "string" ? encodeIp(source.address) : undefined;
  if (bytes === undefined)
    throw new RangeError(
      `Invalid source address: ${JSON.stringify(source.address)} is not an IPv4 or IPv6 address`,
    );
  return bytes.length === 4 ? "inet" : "inet6";
}

/**
 * Builds a v2 header that {@link ProxyHeaderParser} parses back to the same
 * command, family, transport, endpoints and TLVs.
 *
 * @throws {TypeError} for endpoints of the wrong shape, only one of source and
 *   destination, or `PROXY` with a family other than `"unspec"` and no endpoints.
 * @throws {RangeError} for an unknown command, family or transport, an address
 *   not of the family, a port outside 0..65535, an AF_UNIX path over 108
 *   bytes, a TLV type outside 0..255 or value over 65535 bytes, a UNIQUE_ID
 *   over 128 bytes, a raw CRC32C TLV that is not 4 bytes when `crc32c` is set,
 *   or a header whose length field would exceed 65535.
 */
export function buildProxyHeaderV2(options: ProxyHeaderV2Options): Buffer {
  const { command = "proxy", source, destination, tlvs = {} } = options;
  if (command !== "proxy" && command !== "local")
    throw new RangeError(`Invalid command: ${String(command)}`);
  if ((source === undefined) !== (destination === undefined)) {
    throw new TypeError("Invalid endpoints: give both source and destination, or neither");
  }
  const family = options.family ?? inferFamily(source);
  const familyNibble = PROXY_V2_FAMILIES.indexOf(family);
  if (familyNibble === -1) throw new RangeError(`Invalid family: ${String(family)}`);
  const transport = options.transport ?? (source === undefined ? "unspec" : "stream");
  const transportNibble = PROXY_V2_TRANSPORTS.indexOf(transport);
  if (transportNibble === -1) throw new RangeError(`Invalid transport: ${String(transport)}`);
  if (command === "proxy" && family !== "unspec" && source === undefined) {
    throw new TypeError(
      `Invalid endpoints: PROXY with family ${family} needs source and destination`,
    );
  }
  const parts: Buffer[] = [addressBlock(family, source, destination)];
  if (tlvs.alpn !== undefined) {
    parts.push(
      tlv(0x01, typeof tlvs.alpn === "string" ? Buffer.from(tlvs.alpn, "latin1") : tlvs.alpn),
    );
  }
  if (tlvs.authority !== undefined) parts.push(tlv(0x02, Buffer.from(tlvs.authority, "utf8")));
  if (tlvs.uniqueId !== undefined) {
    if (tlvs.uniqueId.length > MAX_UNIQUE_ID_BYTES) {
      throw new RangeError(
        `Invalid uniqueId: ${tlvs.uniqueId.length} bytes exceed ${MAX_UNIQUE_ID_BYTES}`,
      );
    }
    parts.push(tlv(0x05, tlvs.uniqueId));
  }
  if (tlvs.ssl !== undefined) parts.push(tlv(0x20, sslValue(tlvs.ssl)));
  if (tlvs.netns !== undefined) parts.push(tlv(0x30, Buffer.from(tlvs.netns, "utf8")));
  if (tlvs.noop !== undefined) parts.push(tlv(0x04, Buffer.alloc(tlvs.noop)));
  // Offset of the CRC32C value inside the header, once placed.
  let crcAt = -1;
  let offset = 16 + parts.reduce((sum, p) => sum + p.length, 0);
  for (const r of tlvs.raw ?? []) {
    if (options.crc32c === true && r.type === 0x03 && crcAt === -1) {
      if (r.value.length !== 4)
        throw new RangeError(`Invalid CRC32C TLV: ${r.value.length} bytes instead of 4`);
      crcAt = offset + 3;
    }
    const t = tlv(r.type, r.value);
    parts.push(t);
    offset += t.length;
  }
  if (options.crc32c === true && crcAt === -1) {
    crcAt = offset + 3;
    parts.push(tlv(0x03, Buffer.alloc(4)));
  }
  const body = Buffer.concat(parts);
  if (body.length > 65535)
    throw new RangeError(`Invalid header: ${body.length} bytes after the fixed 16 exceed 65535`);
  const header = Buffer.alloc(16 + body.length);
  PROXY_V2_SIGNATURE.copy(header, 0);
  header[12] = 0x20 | (command === "proxy" ? 1 : 0);
  header[13] = (familyNibble << 4) | transportNibble;
  header.writeUInt16BE(body.length, 14);
  body.copy(header, 16);
  if (crcAt !== -1) {
    header.fill(0, crcAt, crcAt + 4);
    header.writeUInt32BE(crc32c(header), crcAt);
  }
  return header;
}
