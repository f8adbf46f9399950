/** A separator for `readUntil`: a string (UTF-8) or bytes. */
export type Separator = string | Uint8Array;

/**
 * Checks `readUntil`'s separators and copies them into Buffers.
 * @throws {RangeError} for an empty list or an empty separator.
 * @throws {TypeError} for one that is neither a string nor a Uint8Array.
 */
export function toSeparators(separator: Separator | Separator[]): Buffer[] {
  // A framing loop calls readUntilNow("\r\n") for every token: its few string
  // separators are encoded once, not per call (the reader only searches with them).
  if (typeof separator === "string") {
    const cached = stringSeparators.get(separator);
    if (cached !== undefined) return cached;
  }
  const list = Array.isArray(separator) ? separator : [separator];
  if (typeof separator === "string") return cacheString(separator, encode(list));
  return encode(list);
}

function encode(list: Separator[]): Buffer[] {
  if (list.length === 0) throw new RangeError("Invalid separator: at least one is required");
  return list.map((sep) => {
    if (typeof sep !== "string" && !(sep instanceof Uint8Array)) {
      throw new TypeError("Invalid separator: expected a string or Uint8Array");
    }
    const bytes = typeof sep === "string" ? Buffer.from(sep, "utf8") : Buffer.from(sep);
    if (bytes.length === 0) throw new RangeError("Invalid separator: must not be empty");
    return bytes;
  });
}

/** Encoded single string separators, bounded so that varied separators cannot grow it. */
const stringSeparators = new Map<string, Buffer[]>();
const MAX_CACHED_SEPARATORS = 16;

function cacheString(separator: string, bytes: Buffer[]): Buffer[] {
  if (stringSeparators.size < MAX_CACHED_SEPARATORS) stringSeparators.set(separator, bytes);
  return bytes;
}

/** Whether `data` holds one `\n`, at its end. */
export function isOneLine(data: Buffer): boolean {
  return data.indexOf(0x0a) === data.length - 1;
}

/**
 * The index of the 2-byte separator `pair` in `chunk` at or after `from`, or
 * -1. For `"\r\n"` (RESP, SMTP, HTTP), measured hot: the one-byte search for
 * its last byte, rare elsewhere, then a look at the byte before, beats
 * `indexOf(Buffer)`.
 */
export function indexOfPair(chunk: Buffer, pair: Buffer, from: number): number {
  const lead = pair[0] as number;
  const end = pair[1] as number;
  for (let at = from + 1; at < chunk.length; at++) {
    at = chunk.indexOf(end, at);
    if (at === -1) return -1;
    if (chunk[at - 1] === lead) return at - 1;
  }
  return -1;
}
