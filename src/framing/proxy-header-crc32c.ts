/**
 * CRC32C (Castagnoli), the checksum of the PROXY v2 `PP2_TYPE_CRC32C` TLV.
 *
 * @module
 */

/** The reflected Castagnoli polynomial 0x1EDC6F41. */
const POLY = 0x82f63b78;

/** One entry per byte value: a byte at a time is fast enough for headers of at most 64 KiB. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/**
 * The CRC32C of `data`, as an unsigned 32-bit integer (`crc32c("123456789")`
 * is `0xe3069283`; the empty input gives 0).
 *
 * To checksum a message given in pieces, pass the previous result as
 * `previous`: `crc32c(b, crc32c(a))` equals `crc32c(concat(a, b))`.
 *
 * @param data Bytes, or a string taken as UTF-8.
 * @param previous The CRC32C of the bytes before `data`; default 0 (none).
 */
export function crc32c(data: Uint8Array | string, previous = 0): number {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let c = ~previous >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    c = (TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return ~c >>> 0;
}
