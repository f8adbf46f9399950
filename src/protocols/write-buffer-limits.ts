/**
 * A transport's write buffer marks and asyncio's rules for their defaults.
 *
 * @module
 */

const DEFAULT_HIGH = 64 * 1024;

/** High and low water marks of a transport's write buffer, in bytes. */
export interface WriteBufferLimits {
  /** Above this many buffered bytes the protocol's `pauseWriting()` is called. Default 64 KiB, or 4 × `low`. */
  high?: number;
  /** At or below this many buffered bytes `resumeWriting()` is called. Default `high / 4`. */
  low?: number;
}

/** Resolves asyncio's defaults: only `high` → `low = high / 4`; only `low` → `high = 4 × low`. */
export function resolveWriteBufferLimits(limits: WriteBufferLimits = {}): {
  high: number;
  low: number;
} {
  const { high: h, low: l } = limits;
  for (const [name, value] of [
    ["high", h],
    ["low", l],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(
        `Invalid write buffer limit: ${name} must be an integer >= 0, got ${value}`,
      );
    }
  }
  const high = h ?? (l === undefined ? DEFAULT_HIGH : 4 * l);
  const low = l ?? Math.floor(high / 4);
  if (low > high) {
    throw new RangeError(`Invalid write buffer limits: low (${low}) is above high (${high})`);
  }
  return { high, low };
}

/** @internal Resolved write buffer marks. */
export interface WriteMarks {
  readonly high: number;
  readonly low: number;
}

// Shared by the transports made with the same limits object: an idle connection keeps a pointer, not two numbers.
const DEFAULT_MARKS: WriteMarks = Object.freeze(resolveWriteBufferLimits());
const marksByLimits = new WeakMap<WriteBufferLimits, WriteMarks>();

/** @internal The marks `limits` resolve to, one frozen object per `limits` object. */
export function marksOf(limits: WriteBufferLimits | undefined): WriteMarks {
  if (limits === undefined) return DEFAULT_MARKS;
  let marks = marksByLimits.get(limits);
  if (marks === undefined) {
    marks = Object.freeze(resolveWriteBufferLimits(limits));
    marksByLimits.set(limits, marks);
  }
  return marks;
}
