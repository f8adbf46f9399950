/** A separator for `readUntil`: a string (UTF-8) or bytes. */
export type Separator = string | Uint8Array;

/**
 * Checks `readUntil`'s separators and copies them into Buffers.
 * @throws {RangeError} for an empty list or an empty separator.
 * @throws {TypeError} for one that is neither a string nor a Uint8Array.
 */
export function toSeparators(separator: Separator | Separator[]): Buffer[] {
  const list = Array.isArray(separator) ? separator : [separator];
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
