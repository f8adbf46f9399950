/**
 * The PROXY v2 (binary) header, once all its bytes have arrived.
 *
 * @module
 */

import { crc32c } from "./proxy-header-crc32c.js";
import { formatIp } from "./proxy-header-ip-format.js";
import { decodeProxyTlvs } from "./proxy-header-tlvs.js";
import type {
  ProxyAddress,
  ProxyFamily,
  ProxyHeader,
  ProxyTransport,
  ProxyUnixAddress,
} from "./proxy-header.js";

/** The 12-byte v2 signature (spec 2.2). */
export const PROXY_V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

/** Families by the high nibble of byte 14; index = nibble. */
export const PROXY_V2_FAMILIES: readonly ProxyFamily[] = ["unspec", "inet", "inet6", "unix"];
/** Transports by the low nibble of byte 14; index = nibble. */
export const PROXY_V2_TRANSPORTS: readonly ProxyTransport[] = ["unspec", "stream", "dgram"];
/** Address block bytes by family nibble: 2×4+2×2, 2×16+2×2, 2×108. */
export const PROXY_V2_ADDRESS_BYTES: readonly number[] = [0, 12, 36, 216];

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function unixPath(buf: Buffer, at: number): ProxyUnixAddress | undefined {
  const block = buf.subarray(at, at + 108);
  const abstract = block[0] === 0 && block.some((b) => b !== 0);
  let end: number;
  if (abstract) {
    // Linux abstract namespace: the name follows the NUL and is padded with NULs.
    end = 108;
    while (block[end - 1] === 0) end--;
  } else {
    end = block.indexOf(0);
    if (end === -1) end = 108;
  }
  try {
    const name = UTF8.decode(block.subarray(abstract ? 1 : 0, end));
    return { path: abstract ? `\0${name}` : name };
  } catch {
    return undefined;
  }
}

/**
 * Parses a complete v2 header (`header.length` is 16 + its length field, and
 * bytes 0..13 were already checked by the caller: signature, version 2,
 * command 0 or 1, family 0..3, transport 0..2). Returns the header, or the
 * detail of what is wrong.
 *
 * The address block's size comes from the family (0, 12, 36 or 216 bytes) and
 * the TLVs fill the rest. For `PROXY` a length field shorter than the family's
 * block is an error. For `LOCAL` the endpoints are never returned (the spec
 * says to use the real ones and ignore the family), and a block too short for
 * the declared family is skipped whole, with no TLVs, rather than rejected.
 * A CRC32C TLV is verified over the whole header with its value zeroed.
 */
export function parseProxyV2(header: Buffer): ProxyHeader | string {
  const command = (header[12] as number) & 0x0f ? "proxy" : "local";
  const familyNibble = (header[13] as number) >> 4;
  const family = PROXY_V2_FAMILIES[familyNibble] as ProxyFamily;
  const transport = PROXY_V2_TRANSPORTS[(header[13] as number) & 0x0f] as ProxyTransport;
  const length = header.length - 16;
  const addressBytes = PROXY_V2_ADDRESS_BYTES[familyNibble] as number;
  const result: ProxyHeader = {
    version: 2,
    command,
    family,
    transport,
    tlvs: { raw: [] },
    headerLength: header.length,
  };
  if (length < addressBytes) {
    if (command === "local") return result;
    return `v2 length ${length} is shorter than the ${addressBytes}-byte ${family} address block`;
  }
  if (command === "proxy" && family !== "unspec") {
    let source: ProxyAddress | undefined;
    let destination: ProxyAddress | undefined;
    if (family === "unix") {
      source = unixPath(header, 16);
      destination = unixPath(header, 124);
      if (source === undefined || destination === undefined) {
        return `v2 AF_UNIX ${source === undefined ? "source" : "destination"} path is not valid UTF-8`;
      }
    } else {
      const size = family === "inet" ? 4 : 16;
      const ports = 16 + 2 * size;
      source = { address: formatIp(header, 16, size), port: header.readUInt16BE(ports) };
      destination = {
        address: formatIp(header, 16 + size, size),
        port: header.readUInt16BE(ports + 2),
      };
    }
    result.source = source;
    result.destination = destination;
  }
  const decoded = decodeProxyTlvs(header, 16 + addressBytes);
  if (typeof decoded === "string") return decoded;
  result.tlvs = decoded.tlvs;
  const sent = decoded.tlvs.crc32c;
  if (sent !== undefined) {
    const at = decoded.crcOffset;
    let crc = crc32c(header.subarray(0, at));
    crc = crc32c(ZEROS, crc);
    crc = crc32c(header.subarray(at + 4), crc);
    if (crc !== sent) {
      return `CRC32C mismatch: header says 0x${sent.toString(16).padStart(8, "0")}, bytes give 0x${crc.toString(16).padStart(8, "0")}`;
    }
  }
  return result;
}

const ZEROS = new Uint8Array(4);
