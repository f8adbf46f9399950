/**
 * Peaks of a process's memory and descriptors, sampled from /proc while a
 * scenario runs, and a bounded wait for the descriptors to come back down.
 *
 * @module
 */

import { fdCountOf, rssKbOf } from "./server.js";

/** What a {@link Sampler} saw. */
export interface Peaks {
  /** Highest VmRSS in KiB. */
  rssKb: number;
  /** Most open descriptors. */
  fds: number;
  samples: number;
}

/** Samples `pid`'s VmRSS and descriptor count every `ms` until {@link Sampler.stop}. */
export class Sampler {
  readonly #pid: number | undefined;
  readonly #timer: NodeJS.Timeout;
  readonly #fds: boolean;
  #peaks: Peaks = { rssKb: 0, fds: 0, samples: 0 };

  /** `fds: false` skips the descriptor count (a readdir of /proc/PID/fd) when it is not wanted. */
  constructor(pid: number | undefined, ms = 50, options: { fds?: boolean } = {}) {
    this.#pid = pid;
    this.#fds = options.fds ?? true;
    this.sample();
    this.#timer = setInterval(() => this.sample(), ms);
  }

  /** Takes one sample now (also called on a timer). */
  sample(): void {
    const rss = rssKbOf(this.#pid);
    if (Number.isNaN(rss)) return;
    const p = this.#peaks;
    p.samples++;
    p.rssKb = Math.max(p.rssKb, rss);
    if (this.#fds) p.fds = Math.max(p.fds, fdCountOf(this.#pid) || 0);
  }

  /** The peaks so far. */
  get peaks(): Peaks {
    return { ...this.#peaks };
  }

  /** Takes a last sample, stops, and returns the peaks. */
  stop(): Peaks {
    this.sample();
    clearInterval(this.#timer);
    return this.peaks;
  }
}

/**
 * Polls `pid`'s descriptor count every 50 ms until it is at most `target`,
 * for at most `ms`; resolves with the last count (NaN if the process is gone).
 */
export async function settleFds(
  pid: number | undefined,
  target: number,
  ms: number,
): Promise<number> {
  const deadline = performance.now() + ms;
  for (;;) {
    const count = fdCountOf(pid);
    if (Number.isNaN(count) || count <= target || performance.now() > deadline) return count;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
