/**
 * The PROXY v1 (text) line, once its CRLF has arrived.
 *
 * @module
 */

import { isIPv6 } from "node:net";
import { asciiRepr } from "./ascii-repr.js";
import type { ProxyHeader } from "./proxy-header.js";

/** Four decimal numbers 0..255, no leading zeros (spec 2.1: they could be read as octal). */
const IPV4 =
  /^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
/** Hex groups, colons and an optional trailing dotted quad; `net.isIPv6` then checks the shape. */
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;
const PORT = /^(?:0|[1-9][0-9]{0,4})$/;
const TCP_LINE = /^PROXY (TCP[46]) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*)$/;

function badAddress(text: string, family: "TCP4" | "TCP6"): boolean {
  if (family === "TCP4") return !IPV4.test(text);
  return !(IPV6_CHARS.test(text) && isIPv6(text));
}

function badPort(text: string): boolean {
  return !PORT.test(text) || Number(text) > 65535;
}

/**
 * Parses one v1 line given without its CRLF (latin1-decoded, so every byte is
 * one character). Returns the header, or the detail of what is wrong for the
 * caller's error message.
 *
 * `PROXY UNKNOWN` may be followed by a space and anything (ignored, as the
 * spec requires); `TCP4`/`TCP6` must be followed by exactly four fields
 * separated by single spaces: two addresses of that family and two ports
 * (decimal 0..65535, no sign, no leading zero).
 */
export function parseProxyV1Line(line: string): ProxyHeader | string {
  const headerLength = line.length + 2;
  if (line === "PROXY UNKNOWN" || line.startsWith("PROXY UNKNOWN ")) {
    return { version: 1, command: "proxy", family: "unspec", tlvs: { raw: [] }, headerLength };
  }
  const m = TCP_LINE.exec(line);
  if (m === null) {
    return `v1 line ${asciiRepr(line)} is not "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>" or "PROXY UNKNOWN"`;
  }
  const [, family, src, dst, sport, dport] = m as unknown as [
    string,
    "TCP4" | "TCP6",
    string,
    string,
    string,
    string,
  ];
  for (const [what, text] of [
    ["source address", src],
    ["destination address", dst],
  ] as const) {
    if (badAddress(text, family))
      return `v1 ${what} ${asciiRepr(text)} is not a valid ${family} address`;
  }
  for (const [what, text] of [
    ["source port", sport],
    ["destination port", dport],
  ] as const) {
    if (badPort(text))
      return `v1 ${what} ${asciiRepr(text)} is not a decimal 0..65535 without leading zeros`;
  }
  return {
    version: 1,
    command: "proxy",
    family: family === "TCP4" ? "inet" : "inet6",
    transport: "stream",
    source: { address: src, port: Number(sport) },
    destination: { address: dst, port: Number(dport) },
    tlvs: { raw: [] },
    headerLength,
  };
}
