/**
 * Text of a binary IP address, for PROXY v2 address blocks.
 *
 * @module
 */

/**
 * Formats 4 bytes as an IPv4 dotted quad, or 16 bytes as IPv6 text the way
 * RFC 5952 recommends: lower-case hex without leading zeros, the longest run
 * of two or more zero groups (the first on a tie) as `::`, and
 * `::ffff:a.b.c.d` for an IPv4-mapped address (as Node shows a dual-stack peer).
 *
 * @param bytes 4 or 16 bytes; `offset` is where they start.
 */
export function formatIp(bytes: Uint8Array, offset: number, length: 4 | 16): string {
  const b = (i: number): number => bytes[offset + i] as number;
  if (length === 4) return `${b(0)}.${b(1)}.${b(2)}.${b(3)}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b(i) << 8) | b(i + 1));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${b(12)}.${b(13)}.${b(14)}.${b(15)}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}
