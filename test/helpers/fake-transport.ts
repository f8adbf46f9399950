/**
 * A stand-in for a Transport that records flow-control calls, so a
 * StreamReader can be driven without sockets.
 *
 * @module
 */

import type { Transport } from "../../src/protocols/transport.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";

/** The calls a reader made on its transport, in order. */
export interface FakeTransport {
  calls: ("pauseReading" | "resumeReading")[];
  reading: boolean;
}

/** Attaches a fake transport to `reader` and returns its record of calls. */
export function attachFakeTransport(reader: StreamReader): FakeTransport {
  const fake: FakeTransport = { calls: [], reading: true };
  const transport = {
    pauseReading() {
      fake.calls.push("pauseReading");
      fake.reading = false;
    },
    resumeReading() {
      fake.calls.push("resumeReading");
      fake.reading = true;
    },
  };
  reader.setTransport(transport as unknown as Transport);
  return fake;
}

/** Feeds each part (strings as latin1, so one char is one byte) in order. */
export function feed(reader: StreamReader, ...parts: (string | Uint8Array)[]): void {
  for (const part of parts) {
    reader.feedData(typeof part === "string" ? Buffer.from(part, "latin1") : Buffer.from(part));
  }
}

/** Lets every pending promise reaction run, so a waiting read sees what was fed. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** How a promise stands after a {@link tick}: still pending, or how it settled. */
export type Settled<T> = ["pending"] | ["resolved", T] | ["rejected", unknown];

/** Whether `promise` has settled after a tick, and how. */
export async function state<T>(promise: Promise<T>): Promise<Settled<T>> {
  let result: Settled<T> = ["pending"];
  promise.then(
    (value) => {
      result = ["resolved", value];
    },
    (error: unknown) => {
      result = ["rejected", error];
    },
  );
  await tick();
  return result;
}
