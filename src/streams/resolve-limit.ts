/** The default reader `limit`: 64 KiB, as asyncio. */
export const DEFAULT_LIMIT = 64 * 1024;

/**
 * Checks a reader `limit` (a positive integer) and applies the default.
 * @throws {RangeError} for anything else.
 */
export function resolveLimit(limit: number | undefined): number {
  const value = limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Invalid limit: must be a positive integer, got ${value}`);
  }
  return value;
}
