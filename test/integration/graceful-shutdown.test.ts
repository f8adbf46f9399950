import assert from "node:assert/strict";
import type net from "node:net";
import { describe, test } from "node:test";
import { createServer } from "../../src/protocols/create-server.js";
import type { Protocol } from "../../src/protocols/protocol.js";
import type { Transport } from "../../src/protocols/transport.js";
import { startServer } from "../../src/streams/start-server.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { rawConnect, readToClose, WAIT_MS } from "../helpers/net.js";
import { echoHandler, serverPort, shutDown } from "../helpers/servers.js";
import { isPending, waitFor, withTimeout } from "../helpers/with-timeout.js";

/** Echoes every line back, until EOF; drains when the writer needs it. */
async function lineEchoHandler(reader: StreamReader, writer: StreamWriter): Promise<void> {
  for (;;) {
    const line = await reader.readLine();
    if (line.length === 0) return;
    writer.write(line);
    if (writer.needsDrain) await writer.drain();
  }
}

function written(socket: net.Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.write(data, (error) => (error ? reject(error) : resolve())),
  );
}

/** Waits until the server has `n` connections in its handlers. */
async function served(server: { connections: number }, n: number): Promise<void> {
  await waitFor(() => server.connections === n, WAIT_MS, `${n} connection(s) served`);
}

describe("server.shutdown({ grace })", () => {
  test("resolves after the grace when a handler writes to a client that never reads, aborting it", async () => {
    const server = await startServer(echoHandler, "127.0.0.1", 0);
    try {
      const stalled = await rawConnect(serverPort(server));
      const received = readToClose(stalled);
      stalled.pause();
      stalled.write(Buffer.alloc(16 << 20, 0x61));
      await waitFor(
        () => server.connections === 1 && stalled.bytesWritten > 4 << 20,
        WAIT_MS,
        "load",
      );
      const stopping = server.shutdown({ grace: 300 });
      assert.equal(await isPending(stopping, 100), true, "waits while the grace lasts");
      await withTimeout(stopping, WAIT_MS, "shutdown after the grace");
      assert.equal(server.connections, 0);
      stalled.resume();
      assert.ok((await received).error !== undefined, "the stalled client was reset");
    } finally {
      await shutDown(server);
    }
  });

  test("answers every line of a client that pipelines through the stop, then closes with EOF", async () => {
    const server = await startServer(lineEchoHandler, "127.0.0.1", 0);
    try {
      const client = await rawConnect(serverPort(server));
      const received = readToClose(client);
      await served(server, 1);
      const chunk = "0123456789abcdef\n".repeat(4_000);
      await written(client, chunk);
      const stopping = server.shutdown({ grace: 60_000 });
      for (let i = 1; i < 25; i++) await written(client, chunk);
      await withTimeout(stopping, WAIT_MS * 3, "shutdown once the client is quiet");
      const { data, error } = await received;
      assert.equal(error, undefined, "closed with EOF, not reset");
      assert.equal(data.length, chunk.length * 25);
      assert.ok(data.equals(Buffer.from(chunk.repeat(25), "latin1")), "the replies differ");
    } finally {
      await shutDown(server);
    }
  });

  test("closes idle connections at once, long before the grace ends", async () => {
    const server = await startServer(lineEchoHandler, "127.0.0.1", 0);
    try {
      const port = serverPort(server);
      const clients = await Promise.all([1, 2, 3].map(() => rawConnect(port)));
      const received = clients.map(readToClose);
      await served(server, 3);
      // A grace far beyond the wait's bound: only closing the idle ones ends this.
      await withTimeout(server.shutdown({ grace: 600_000 }), WAIT_MS, "shutdown of idle clients");
      for (const r of received) assert.equal((await r).error, undefined, "closed with EOF");
      assert.equal(server.isServing(), false);
      await assert.rejects(rawConnect(port), { code: "ECONNREFUSED" });
    } finally {
      await shutDown(server);
    }
  });

  test("closes the connections still waiting for a session, unserved", async () => {
    const server = await startServer(lineEchoHandler, "127.0.0.1", 0, { maxSessions: 1 });
    try {
      const port = serverPort(server);
      const first = await rawConnect(port);
      const firstReceived = readToClose(first);
      await served(server, 1);
      const waiting = await rawConnect(port);
      const waitingReceived = readToClose(waiting);
      await waitFor(() => server.waiting === 1, WAIT_MS, "a waiting connection");
      await withTimeout(server.shutdown({ grace: 600_000 }), WAIT_MS, "shutdown");
      assert.equal((await firstReceived).error, undefined);
      assert.equal((await waitingReceived).data.length, 0);
      assert.equal(server.waiting, 0);
    } finally {
      await shutDown(server);
    }
  });

  test("a Protocol without shutdownRequested is closed at once, its replies flushed", async () => {
    const reply = Buffer.alloc(1 << 20, 0x72);
    const server = await createServer(
      (): Protocol => ({
        connectionMade(transport: Transport) {
          transport.write(reply);
        },
        dataReceived() {},
        connectionLost() {},
      }),
      "127.0.0.1",
      0,
    );
    try {
      const client = await rawConnect(serverPort(server));
      const received = readToClose(client);
      await served(server, 1);
      await withTimeout(server.shutdown({ grace: 600_000 }), WAIT_MS, "shutdown");
      const { data, error } = await received;
      assert.equal(error, undefined);
      assert.ok(data.equals(reply));
    } finally {
      await shutDown(server);
    }
  });

  test("its signal aborts what is left at once", async () => {
    const server = await startServer(echoHandler, "127.0.0.1", 0);
    try {
      const stalled = await rawConnect(serverPort(server));
      const received = readToClose(stalled);
      stalled.pause();
      stalled.write(Buffer.alloc(16 << 20, 0x61));
      await served(server, 1);
      const controller = new AbortController();
      const stopping = server.shutdown({ grace: 600_000, signal: controller.signal });
      assert.equal(await isPending(stopping, 50), true);
      controller.abort();
      await withTimeout(stopping, WAIT_MS, "shutdown after the abort");
      stalled.resume();
      assert.ok((await received).error !== undefined, "reset");
    } finally {
      await shutDown(server);
    }
  });

  test("onGraceOver is told how many connections are aborted", async () => {
    const server = await startServer(echoHandler, "127.0.0.1", 0);
    try {
      const stalled = await rawConnect(serverPort(server));
      stalled.on("error", () => undefined);
      stalled.pause();
      stalled.write(Buffer.alloc(16 << 20, 0x61));
      await served(server, 1);
      const counts: number[] = [];
      await withTimeout(
        server.shutdown({ grace: 0, onGraceOver: (n) => counts.push(n) }),
        WAIT_MS,
        "shutdown",
      );
      assert.deepEqual(counts, [1]);
      stalled.destroy();
    } finally {
      await shutDown(server);
    }
  });

  test("rejects a bad grace before stopping anything", async () => {
    const server = await startServer(echoHandler, "127.0.0.1", 0);
    try {
      for (const grace of [-1, Number.NaN, 2 ** 31]) {
        await assert.rejects(server.shutdown({ grace }), {
          name: "RangeError",
          message: new RegExp(
            `^Invalid grace: must be from 0 to 2147483647 ms or Infinity, got ${grace}$`,
          ),
        });
      }
      await assert.rejects(server.shutdown({ grace: "1" as unknown as number }), {
        name: "TypeError",
        message: "Invalid grace: expected a number of ms, got string",
      });
      assert.equal(server.isServing(), true);
    } finally {
      await shutDown(server);
    }
  });

  test("await using ends once the pipelined lines are answered", async () => {
    let data: Promise<{ data: Buffer; error: Error | undefined }>;
    const chunk = "line\n".repeat(20_000);
    {
      await using server = await startServer(lineEchoHandler, "127.0.0.1", 0);
      const client = await rawConnect(serverPort(server));
      data = readToClose(client);
      await served(server, 1);
      client.write(chunk);
    }
    const got = await data;
    assert.equal(got.error, undefined);
    assert.equal(got.data.toString("latin1"), chunk);
  });
});
