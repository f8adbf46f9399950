/**
 * A scripted peer, as tokio's `io::Builder`: what to send, what to expect
 * back, in order, run against a connection's end.
 *
 * @module
 */

import { AssertionError } from "node:assert";
import { InvalidStateError } from "../errors.js";
import type { Clock } from "../protocols/clock.js";
import { bytesRepr as reprBytes } from "../framing/ascii-repr.js";
import type { ConnectionEnd } from "./connection-pair.js";

/** One step of a {@link Script}. */
export type ScriptStep =
  | {
      /** Send `data` to the connection. */
      readonly kind: "send";
      /** The bytes sent. */
      readonly data: Buffer;
    }
  | {
      /** Wait for the next bytes to be `data`, or for the bytes since the last `expect` to match it. */
      readonly kind: "expect";
      /** The bytes expected exactly, or a pattern matched against latin1 text. */
      readonly data: Buffer | RegExp;
    }
  | {
      /** Wait for the other side's EOF, with no byte left unexpected. */
      readonly kind: "expectEof";
    }
  | {
      /** Let time pass on the run's clock (a virtual clock is advanced). */
      readonly kind: "wait";
      /** How long, in ms. */
      readonly ms: number;
    }
  | {
      /** Send EOF (a half-close); reading goes on. */
      readonly kind: "eof";
    }
  | {
      /** Reset the connection; the last step. */
      readonly kind: "reset";
      /** What the other side gets; `undefined` for an `ECONNRESET`. */
      readonly error: Error | undefined;
    };

/** Options of {@link run}. */
export interface RunOptions {
  /** The clock of `wait` steps: a virtual clock is advanced by the script itself. Default: real time. */
  clock?: Clock;
  /** Real-time bound, in ms, on each `expect` step, after which the run fails instead of hanging. Default 2000. */
  timeout?: number;
}

/** What a completed {@link run} saw. */
export interface RunResult {
  /** Every byte the script's end received. */
  received: Buffer;
}

function bytes(data: Uint8Array | string): Buffer {
  return typeof data === "string" ? Buffer.from(data, "latin1") : Buffer.from(data);
}

function describeStep(step: ScriptStep): string {
  switch (step.kind) {
    case "send":
    case "expect":
      return `${step.kind}(${step.data instanceof RegExp ? String(step.data) : reprBytes(step.data)})`;
    case "wait":
      return `wait(${step.ms})`;
    default:
      return `${step.kind}()`;
  }
}

/**
 * The steps of a scripted peer, built by chaining; immutable (each method
 * returns a new script), so one script can be run many times. Strings are
 * bytes in latin1, one byte per character.
 *
 * @example
 * ```ts
 * const peer = script()
 *   .expect("<welcome: starting in sum mode>\n")
 *   .send("1,2\n")
 *   .expect("Sum of input numbers: '3'\r\n")
 *   .send("quit\n")
 *   .expect(/connection closed\r\n$/)
 *   .expectEof();
 * const server = serveInMemory(handler);
 * await run(peer, await server.connect());
 * ```
 */
export class Script {
  /** The steps, in order. */
  readonly steps: readonly ScriptStep[];

  /** @internal Use {@link script}. */
  constructor(steps: readonly ScriptStep[] = []) {
    this.steps = Object.freeze([...steps]);
  }

  #then(step: ScriptStep): Script {
    return new Script([...this.steps, step]);
  }

  /** Sends `data`. */
  send(data: Uint8Array | string): Script {
    return this.#then({ kind: "send", data: bytes(data) });
  }

  /**
   * Waits for the next bytes to be `data` exactly (the first byte that
   * differs fails at once), or for the bytes received since the last
   * `expect` to match `pattern` (latin1 text; the bytes up to the match's
   * end are taken).
   */
  expect(expected: Uint8Array | string | RegExp): Script {
    const data = expected instanceof RegExp ? expected : bytes(expected);
    return this.#then({ kind: "expect", data });
  }

  /** Waits for the other side's EOF, with no byte left unexpected. */
  expectEof(): Script {
    return this.#then({ kind: "expectEof" });
  }

  /** Lets `ms` ms pass on the run's clock (a virtual clock is advanced). */
  wait(ms: number): Script {
    if (!(ms >= 0)) throw new RangeError(`Invalid wait: must be at least 0 ms, got ${ms}`);
    return this.#then({ kind: "wait", ms });
  }

  /** Sends EOF (a half-close); reading goes on. */
  eof(): Script {
    return this.#then({ kind: "eof" });
  }

  /** Resets the connection (the other side gets `error`, default `ECONNRESET`); must be the last step. */
  reset(error?: Error): Script {
    return this.#then({ kind: "reset", error });
  }
}

/** An empty {@link Script}, to chain steps on. */
export function script(): Script {
  return new Script();
}

interface Advancing extends Clock {
  advance(ms: number): Promise<void>;
}

function canAdvance(clock: Clock | undefined): clock is Advancing {
  return typeof (clock as Partial<Advancing> | undefined)?.advance === "function";
}

/**
 * Runs `peer` on `end`, a raw end (no `streams()` or `protocol()` on it),
 * step by step. Resolves when every step is done and nothing unexpected
 * arrived meanwhile. Fails (an `AssertionError`) as soon as a received byte
 * differs from an exact `expect`, when the other side closes before an
 * `expect` is met, when an `expect` waits longer than `timeout`, or when
 * bytes arrived that no step expected; the message names the remaining steps
 * and the bytes actually received. With manual delivery, it flushes the
 * connection at each step. Once every step passed, the end sends EOF (if it
 * has not yet): a peer that is done closes its side, so the other side's close
 * does not linger; run a longer script to keep it open.
 * @throws {InvalidStateError} when `end` already has a transport.
 */
export async function run(
  peer: Script,
  end: ConnectionEnd,
  options: RunOptions = {},
): Promise<RunResult> {
  if (end.transport !== undefined) {
    throw new InvalidStateError("Cannot run a script: the end already has a transport");
  }
  const timeout = options.timeout ?? 2000;
  const received: Buffer[] = [];
  let all = Buffer.alloc(0);
  let cursor = 0;
  let eof = false;
  let closedBy: Error | undefined;
  let wake: (() => void) | undefined;
  const stream = end.stream;
  const onData = (data: Buffer) => {
    received.push(data);
    all = Buffer.concat([all, data]);
    wake?.();
  };
  const onEnd = () => {
    eof = true;
    wake?.();
  };
  const onError = (error: Error) => {
    closedBy = error;
    wake?.();
  };
  stream.on("data", onData);
  stream.on("end", onEnd);
  stream.on("error", onError);
  stream.on("close", onEnd);
  const steps = peer.steps;
  let index = 0;
  const fail = (why: string): never => {
    const left = steps.slice(index).map(describeStep);
    throw new AssertionError({
      message:
        `Script failed at step ${index + 1} of ${steps.length}: ${why}\n` +
        `  remaining steps: ${left.length === 0 ? "(none)" : left.join(", ")}\n` +
        `  received: ${reprBytes(all)}` +
        (cursor > 0 ? ` (of which ${cursor} bytes expected before)` : "") +
        (closedBy === undefined ? "" : `\n  the connection failed: ${String(closedBy)}`),
    });
  };
  const waitFor = async (met: () => boolean, what: string): Promise<void> => {
    const started = Date.now();
    while (!met()) {
      if (eof) fail(`the other side closed while waiting for ${what}`);
      const left = timeout - (Date.now() - started);
      if (left <= 0) fail(`timed out after ${timeout} ms waiting for ${what}`);
      if (end.pump()) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 20));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        setImmediate(() => end.pump() && wake?.());
      });
      wake = undefined;
    }
  };
  try {
    for (; index < steps.length; index++) {
      const step = steps[index] as ScriptStep;
      switch (step.kind) {
        case "send":
          stream.write(step.data);
          break;
        case "eof":
          stream.end();
          break;
        case "reset":
          end.reset(step.error);
          break;
        case "wait":
          if (canAdvance(options.clock)) await options.clock.advance(step.ms);
          else await new Promise((resolve) => setTimeout(resolve, step.ms));
          break;
        case "expect": {
          const expected = step.data;
          if (expected instanceof RegExp) {
            let match: RegExpExecArray | null = null;
            await waitFor(() => {
              match = expected.exec(all.subarray(cursor).toString("latin1"));
              return match !== null;
            }, String(expected));
            const found = match as unknown as RegExpExecArray;
            cursor += found.index + found[0].length;
          } else {
            const mismatch = () => {
              const got = all.subarray(cursor, cursor + expected.length);
              const at = firstDifference(got, expected);
              if (at !== -1) {
                fail(
                  `byte ${at} of the expected ${reprBytes(expected)} differs: got ${reprBytes(got)}`,
                );
              }
              return got.length === expected.length;
            };
            await waitFor(mismatch, reprBytes(expected));
            cursor += expected.length;
          }
          break;
        }
        case "expectEof":
          await waitFor(() => all.length > cursor || eof, "EOF");
          if (all.length > cursor) fail("bytes arrived where EOF was expected");
          break;
      }
    }
    if (end.pump() || steps.at(-1)?.kind !== "reset") await settleEnd(end);
    if (all.length > cursor) {
      index = steps.length;
      fail(`${all.length - cursor} bytes arrived that no step expected`);
    }
    // A peer that is done closes its side, so the other side's close need not linger.
    if (!stream.destroyed) stream.end();
    return { received: Buffer.concat(received) };
  } finally {
    stream.off("data", onData);
    stream.off("end", onEnd);
    stream.off("error", onError);
    stream.off("close", onEnd);
  }
}

/** A last look: bytes already on their way are seen before the run passes. */
async function settleEnd(end: ConnectionEnd): Promise<void> {
  for (let i = 0; i < 4; i++) {
    end.pump();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function firstDifference(got: Buffer, expected: Buffer): number {
  for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) return i;
  return -1;
}
