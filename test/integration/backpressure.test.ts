import assert from "node:assert/strict";
import type net from "node:net";
import { describe, test } from "node:test";
import { echo } from "../../src/apps/echo.js";
import { Logger } from "../../src/apps/logger.js";
import { ConnectionClosedError } from "../../src/errors.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { startServer } from "../../src/streams/start-server.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { portOf, rawConnect, rawServer, WAIT_MS } from "../helpers/net.js";
import { deferred, echoHandler, serverPort, shutDown } from "../helpers/servers.js";
import { isPending, sleep, waitFor, withTimeout } from "../helpers/with-timeout.js";

const CHUNK = Buffer.alloc(64 * 1024, 0x62);
const silent = new Logger("main", { level: "info", write: () => {} });
const HIGH = 64 * 1024;
/** No test may push more than this; reaching it means backpressure never applied. */
const MAX_BYTES = 512 * 1024 * 1024;
/** The most one socket read hands over: 64 KiB under Node, 512 KiB under Bun (both logged). */
const MAX_ARRIVAL = 512 * 1024;

/** Starts `write(64 KiB); await drain()` and reports how far it got. */
function writerLoop(writer: StreamWriter) {
  const state = { written: 0, maxBuffered: 0, draining: false };
  const done = (async () => {
    while (state.written < MAX_BYTES) {
      writer.write(CHUNK);
      state.written += CHUNK.length;
      state.maxBuffered = Math.max(state.maxBuffered, writer.transport.getWriteBufferSize());
      state.draining = true;
      await writer.drain();
      state.draining = false;
    }
    throw new Error("The writer never stalled");
  })();
  done.catch(() => {});
  return { state, done };
}

/** A raw peer that accepts one connection and never reads from it. */
async function silentPeer() {
  const peer = deferred<net.Socket>();
  const server = await rawServer((socket) => {
    socket.pause();
    socket.on("error", () => {});
    peer.resolve(socket);
  });
  return { server, port: portOf(server), socket: peer.promise };
}

describe("backpressure", () => {
  test("against a peer that never reads, write+drain stalls with a bounded buffer and rejects when the peer goes", async () => {
    const peer = await silentPeer();
    try {
      const { writer } = await openConnection("127.0.0.1", peer.port);
      const loop = writerLoop(writer);
      await waitFor(
        () => loop.state.draining && writer.transport.getWriteBufferSize() > HIGH,
        WAIT_MS,
        "the writer to stall in drain",
      );
      const stalledAt = loop.state.written;
      assert.equal(await isPending(loop.done, 100), true);
      assert.equal(loop.state.written, stalledAt);
      assert.ok(
        loop.state.maxBuffered <= HIGH + CHUNK.length,
        `buffered ${loop.state.maxBuffered}`,
      );

      const drains = Array.from({ length: 50 }, () => writer.drain());
      assert.equal(await isPending(Promise.race(drains), 20), true);
      (await peer.socket).destroy();

      const expected = (error: unknown) => {
        assert.ok(error instanceof ConnectionClosedError);
        assert.equal(error.code, "ERR_CONNECTION_CLOSED");
        assert.equal(error.message, "Cannot drain: connection lost");
        const cause = error.cause as { code?: string } | undefined;
        assert.ok(cause === undefined || cause.code === "ERR_CONNECTION_RESET", String(cause));
        return true;
      };
      await withTimeout(assert.rejects(loop.done, expected), WAIT_MS, "the writer loop to fail");
      const settled = await withTimeout(Promise.allSettled(drains), WAIT_MS, "every drain");
      for (const result of settled) {
        assert.equal(result.status, "rejected");
        expected((result as PromiseRejectedResult).reason);
      }
      await withTimeout(writer.waitClosed(), WAIT_MS, "the writer to close");
    } finally {
      peer.server.close();
    }
  });

  test("many concurrent drain calls all resolve once the peer starts reading", async () => {
    const peer = await silentPeer();
    try {
      const { writer } = await openConnection("127.0.0.1", peer.port);
      const loop = writerLoop(writer);
      await waitFor(() => loop.state.draining, WAIT_MS, "the writer to stall");
      await waitFor(() => writer.transport.getWriteBufferSize() > HIGH, WAIT_MS, "a full buffer");
      const drains = Array.from({ length: 50 }, () => writer.drain());
      const socket = await peer.socket;
      socket.resume();
      await withTimeout(Promise.all(drains), WAIT_MS, "every drain to resolve");
      assert.ok(writer.transport.getWriteBufferSize() <= HIGH);
      writer.transport.abort();
      await withTimeout(writer.waitClosed(), WAIT_MS, "the writer to close");
      socket.destroy();
    } finally {
      peer.server.close();
    }
  });

  test("a small write+drain loop ends with ConnectionClosedError when the peer resets, instead of spinning", async () => {
    const server = await rawServer((socket) => {
      socket.once("data", () => socket.destroy());
      socket.on("error", () => {});
    });
    try {
      const { writer } = await openConnection("127.0.0.1", portOf(server));
      let iterations = 0;
      const loop = (async () => {
        // The cap turns a livelock (which would block every timer) into a failure.
        while (iterations++ < 1_000_000) {
          writer.write("x".repeat(100));
          await writer.drain();
        }
        throw new Error("drain kept resolving on a dead connection");
      })();
      await withTimeout(
        assert.rejects(loop, {
          name: "ConnectionClosedError",
          message: "Cannot drain: connection lost",
        }),
        WAIT_MS,
        "the loop to end",
      );
    } finally {
      server.close();
    }
  });

  // The app's echo answers each arrival inside the data event while its loop waits
  // (waitChunks): a peer that never reads must bound it as it bounds a plain read loop.
  const echoes: [name: string, handler: (reader: StreamReader, writer: StreamWriter) => unknown][] =
    [
      ["a read loop", echoHandler],
      ["the echo server's app", (reader, writer) => echo(reader, writer, { logger: silent })],
    ];
  for (const [name, handler] of echoes)
    test(`a flooding peer that never reads replies makes the server pause reading with bounded buffers: ${name}`, async () => {
      const LIMIT = 4096;
      const conn = deferred<{ reader: StreamReader; writer: StreamWriter }>();
      // The reader can hold its high-water mark (2 x limit) plus the one arrival
      // that crossed it. Node reads at most 64 KiB at once, Bun up to 512 KiB:
      // the bound takes the largest arrival seen, itself bounded by Bun's.
      let largestArrival = 0;
      const server = await startServer(
        (reader, writer) => {
          const feedData = reader.feedData.bind(reader);
          reader.feedData = (data) => {
            largestArrival = Math.max(largestArrival, data.length);
            feedData(data);
          };
          conn.resolve({ reader, writer });
          return handler(reader, writer);
        },
        "127.0.0.1",
        0,
        { limit: LIMIT, onError: () => {} },
      );
      try {
        const client = await rawConnect(serverPort(server));
        client.pause();
        client.on("error", () => {});
        const { reader, writer } = await withTimeout(conn.promise, WAIT_MS, "the handler");
        const transport = writer.transport;
        let sent = 0;
        const deadline = Date.now() + WAIT_MS;
        while (transport.isReading()) {
          if (sent > MAX_BYTES || Date.now() > deadline) assert.fail(`never paused after ${sent}`);
          if (client.writableLength < 1024 * 1024) {
            client.write(CHUNK);
            sent += CHUNK.length;
          } else {
            await sleep(2);
          }
        }
        assert.ok(sent >= 2 * LIMIT);
        // The reader paused because its handler stopped reading: it holds more than its limit.
        assert.ok(reader.bufferedSize > LIMIT, `reader holds ${reader.bufferedSize}`);
        assert.ok(largestArrival <= MAX_ARRIVAL, `an arrival of ${largestArrival} bytes`);
        const bound = 2 * LIMIT + Math.max(largestArrival, CHUNK.length);
        assert.ok(reader.bufferedSize <= bound, `reader holds ${reader.bufferedSize}`);
        assert.ok(transport.getWriteBufferSize() <= HIGH + CHUNK.length);

        // Keep flooding a little: nothing more may reach the paused reader.
        for (let i = 0; i < 16; i++) client.write(CHUNK);
        await sleep(50);
        assert.equal(transport.isReading(), false);
        assert.ok(reader.bufferedSize <= bound, `reader holds ${reader.bufferedSize}`);

        // Reading the replies lets everything flow again.
        client.resume();
        await waitFor(() => transport.isReading(), WAIT_MS, "the server to read again");
        client.destroy();
      } finally {
        await shutDown(server);
      }
    });
});
