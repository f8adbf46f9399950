/**
 * The client side of {@link ClientProcess}: parameters from the one JSON
 * argument, events as JSON lines on stdout, commands as lines on stdin, and a
 * hard time limit after which the client exits on its own.
 *
 * @module
 */

import { createInterface } from "node:readline";

/** One JSON line a client prints. `error` means the client itself failed. */
export interface ClientEvent {
  event: string;
  [field: string]: unknown;
}

/** The client's parameters: `process.argv[2]` as JSON. */
export function clientParams<T>(): T {
  const text = process.argv[2];
  if (text === undefined) throw new Error("Cannot start the client: missing its JSON parameters");
  return JSON.parse(text) as T;
}

/** Prints one event line. */
export function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

/** Calls `handle` with each line written to stdin. */
export function onCommand(handle: (command: string) => void): void {
  createInterface({ input: process.stdin }).on("line", handle);
}

/**
 * Exits with code 3 after `ms`, and reports any failure as an `error` event
 * (exit code 1), so that a client never outlives its scenario.
 */
export function runClient(ms: number, main: () => Promise<void>): void {
  setTimeout(() => {
    emit("error", { message: `client passed its hard limit of ${ms} ms` });
    process.exit(3);
  }, ms);
  main().then(
    () => process.stdout.write("", () => process.exit(0)),
    (error: unknown) => {
      emit("error", { message: error instanceof Error ? error.stack : String(error) });
      process.stdout.write("", () => process.exit(1));
    },
  );
}
