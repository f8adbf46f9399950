/**
 * Bytes of an IP address's text, for PROXY v2 address blocks.
 *
 * @module
 */

import { isIPv4, isIPv6 } from "node:net";

/**
 * The 4 bytes of an IPv4 dotted quad or the 16 bytes of an IPv6 address
 * (`::` and a trailing dotted quad allowed), or `undefined` for anything else,
 * a zone index (`fe80::1%eth0`) included: a zone means nothing to the receiver.
 */
export function encodeIp(text: string): Buffer | undefined {
  if (isIPv4(text)) return Buffer.from(text.split(".").map(Number));
  if (!isIPv6(text) || text.includes("%")) return undefined;
  const groupsOf = (part: string): number[] => {
    if (part === "") return [];
    const out: number[] = [];
    for (const piece of part.split(":")) {
      if (piece.includes(".")) {
        const [a, b, c, d] = piece.split(".").map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(Number.parseInt(piece, 16));
      }
    }
    return out;
  };
  const gap = text.indexOf("::");
  let groups: number[];
  if (gap === -1) {
    groups = groupsOf(text);
  } else {
    const head = groupsOf(text.slice(0, gap));
    const tail = groupsOf(text.slice(gap + 2));
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const bytes = Buffer.alloc(16);
  groups.forEach((g, i) => bytes.writeUInt16BE(g, i * 2));
  return bytes;
}
