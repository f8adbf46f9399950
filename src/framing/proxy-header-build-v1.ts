/**
 * The PROXY v1 (text) header a client side sends.
 *
 * @module
 */

import { encodeIp } from "./proxy-header-ip-encode.js";
import { formatIp } from "./proxy-header-ip-format.js";
import type { ProxyInetAddress } from "./proxy-header.js";

/** The endpoints of a v1 header: both IPv4 (`TCP4`) or both IPv6 (`TCP6`). */
export interface ProxyHeaderV1Endpoints {
  /** The client's address and port, as the proxy saw it. */
  source: ProxyInetAddress;
  /** The address and port the client connected to; the same family as {@link source}. */
  destination: ProxyInetAddress;
}

function checkPort(port: unknown, what: string): number {
  if (typeof port !== "number")
    throw new TypeError(`Invalid ${what} port: expected a number, got ${typeof port}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Invalid ${what} port: expected an integer from 0 to 65535, got ${port}`);
  }
  return port;
}

function checkAddress(address: unknown, what: string): Buffer {
  if (typeof address !== "string") {
    throw new TypeError(`Invalid ${what} address: expected a string, got ${typeof address}`);
  }
  const bytes = encodeIp(address);
  if (bytes === undefined) {
    throw new RangeError(
      `Invalid ${what} address: ${JSON.stringify(address)} is not an IPv4 or IPv6 address`,
    );
  }
  return bytes;
}

/**
 * Builds a v1 line: `PROXY TCP4 <src> <dst> <sport> <dport>\r\n` (or `TCP6`),
 * or `PROXY UNKNOWN\r\n` for `"unknown"`. Addresses are written in canonical
 * form (IPv6 lower case with `::`, as {@link ProxyHeaderParser} reads them
 * back from v2), so the line is at most 104 bytes.
 *
 * @throws {TypeError} for a missing endpoint, an address that is not a string
 *   or a port that is not a number.
 * @throws {RangeError} for an address that is not IPv4 or IPv6 (a zone index
 *   included), addresses of different families, or a port outside 0..65535.
 */
export function buildProxyHeaderV1(endpoints: ProxyHeaderV1Endpoints | "unknown"): Buffer {
  if (endpoints === "unknown") return Buffer.from("PROXY UNKNOWN\r\n", "latin1");
  if (typeof endpoints !== "object" || endpoints === null) {
    throw new TypeError(`Invalid endpoints: expected { source, destination } or "unknown"`);
  }
  const { source, destination } = endpoints;
  if (
    typeof source !== "object" ||
    source === null ||
    typeof destination !== "object" ||
    destination === null
  ) {
    throw new TypeError("Invalid endpoints: expected source and destination objects");
  }
  const src = checkAddress(source.address, "source");
  const dst = checkAddress(destination.address, "destination");
  if (src.length !== dst.length) {
    throw new RangeError(
      "Invalid endpoints: source and destination addresses are of different families",
    );
  }
  const sport = checkPort(source.port, "source");
  const dport = checkPort(destination.port, "destination");
  const size = src.length as 4 | 16;
  const line = `PROXY TCP${size === 4 ? 4 : 6} ${formatIp(src, 0, size)} ${formatIp(dst, 0, size)} ${sport} ${dport}\r\n`;
  return Buffer.from(line, "latin1");
}
