#!/usr/bin/env node
/**
 * A client that keeps trying: it connects to `--host`:`--port` with a connect
 * timeout, retries failed attempts with exponential backoff and full jitter,
 * sends one line and prints the reply line. Ctrl-C (or SIGTERM) cancels it at
 * any point, through one `AbortSignal` given to every wait.
 *
 *     node dist/examples/retry-client.js --host 127.0.0.1 --port 7000 --message hello
 *
 * Exit codes: 0 a reply was printed; 1 every attempt failed (or the peer
 * closed without replying); 2 a bad argument; 130 cancelled.
 *
 * @module
 */

import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { openConnection } from "asyncnet";

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_CANCELLED = 130;

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string" },
    message: { type: "string", default: "hello" },
    retries: { type: "string", default: "5" },
    "connect-timeout": { type: "string", default: "1000" },
    "base-delay": { type: "string", default: "100" },
    "max-delay": { type: "string", default: "5000" },
    "reply-timeout": { type: "string", default: "5000" },
  },
});

function integer(name: keyof typeof values, min: number, max: number): number {
  const value = Number(values[name]);
  if (values[name] === undefined || !Number.isInteger(value) || value < min || value > max) {
    console.error(
      `retry-client: --${name} must be an integer in ${min}..${max}, got ${values[name]}`,
    );
    process.exit(EXIT_USAGE);
  }
  return value;
}

const host = values.host ?? "127.0.0.1";
const port = integer("port", 1, 65535);
const retries = integer("retries", 0, 100);
const connectTimeout = integer("connect-timeout", 1, 600_000);
const baseDelay = integer("base-delay", 0, 600_000);
const maxDelay = integer("max-delay", 0, 600_000);
const replyTimeout = integer("reply-timeout", 1, 600_000);

const cancel = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => cancel.abort());
}

/** Full jitter: a uniform wait in [0, min(maxDelay, baseDelay × 2^attempt)). */
function backoff(attempt: number): number {
  return Math.floor(Math.random() * Math.min(maxDelay, baseDelay * 2 ** attempt));
}

/** One attempt: connect, send the line, read the reply line. */
async function attempt(signal: AbortSignal): Promise<string> {
  const { reader, writer } = await openConnection(host, port, { connectTimeout, signal });
  try {
    writer.write(`${values.message}\n`);
    const reply = await reader.readLine({
      signal: AbortSignal.any([signal, AbortSignal.timeout(replyTimeout)]),
    });
    if (reply.length === 0) throw new Error("Cannot read reply: the peer closed without one");
    return reply.toString("utf8").replace(/\r?\n$/, "");
  } finally {
    writer.close();
  }
}

async function main(signal: AbortSignal): Promise<number> {
  for (let n = 0; ; n++) {
    try {
      console.log(await attempt(signal));
      return 0;
    } catch (error) {
      if (signal.aborted) throw error;
      const message = error instanceof Error ? error.message : String(error);
      if (n === retries) {
        console.error(`retry-client: attempt ${n + 1} failed: ${message}; giving up`);
        return EXIT_FAILED;
      }
      const delay = backoff(n);
      console.error(`retry-client: attempt ${n + 1} failed: ${message}; retrying in ${delay} ms`);
      await sleep(delay, undefined, { signal });
    }
  }
}

try {
  process.exitCode = await main(cancel.signal);
} catch (error) {
  if (!cancel.signal.aborted) throw error;
  console.error("retry-client: cancelled");
  process.exitCode = EXIT_CANCELLED;
}
