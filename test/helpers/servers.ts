/**
 * Server plumbing shared by the integration tests.
 *
 * @module
 */

import type { Server } from "../../src/protocols/server.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { WAIT_MS } from "./net.js";
import { withTimeout } from "./with-timeout.js";

/** Stops `server`, drops its connections and waits (bounded) until it is fully closed. */
export async function shutDown(server: Server): Promise<void> {
  server.close();
  server.abortClients();
  await withTimeout(server.waitClosed(), WAIT_MS, "server to close");
}

/** The TCP port a server listens on. */
export function serverPort(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("Not a TCP server");
  return address.port;
}

/** Reads until EOF with `read(size)` calls, as the seed clients do. */
export async function readToEof(reader: StreamReader, size = 128): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk = await withTimeout(reader.read(size), WAIT_MS, "read to EOF");
    if (chunk.length === 0) return Buffer.concat(chunks);
    chunks.push(chunk);
  }
}

/** The seed 000 echo handler: read up to 128 bytes, write them back, drain; close at EOF. */
export async function echoHandler(reader: StreamReader, writer: StreamWriter): Promise<void> {
  for (;;) {
    const data = await reader.read(128);
    if (data.length === 0) {
      writer.close();
      return;
    }
    writer.write(data);
    await writer.drain();
  }
}

/** A promise with its settle functions, for events that tests wait on. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
