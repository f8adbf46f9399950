/**
 * Small statistics for figures: percentiles of a sample and tallies of kinds.
 *
 * @module
 */

/** The `q` quantile (0..1) of `values` by the nearest-rank method; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Counts of each key. */
export class Tally {
  readonly counts = new Map<string, number>();

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** As a plain object, most frequent first. */
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1]));
  }
}

/** `a 3, b 1` from a tally's object, most frequent first. */
export function describeTally(counts: Record<string, number>, max = 6): string {
  const entries = Object.entries(counts);
  const shown = entries.slice(0, max).map(([k, n]) => `${k} ${n.toLocaleString("en-US")}`);
  if (entries.length > max) shown.push(`+${entries.length - max} more`);
  return shown.length === 0 ? "nothing" : shown.join(", ");
}
