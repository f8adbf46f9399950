import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { openConnection } from "../../src/streams/open-connection.js";
import { startServer } from "../../src/streams/start-server.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { WAIT_MS } from "../helpers/net.js";
import { deferred, echoHandler, readToEof, serverPort, shutDown } from "../helpers/servers.js";
import { isPending, waitFor, withTimeout } from "../helpers/with-timeout.js";

const MESSAGES = ["This is the message. ", "It will be sent ", "in parts."];

describe("streams echo (seed 000)", () => {
  test("a client that writes three parts then writeEof gets every byte back, then EOF", async () => {
    const server = await startServer(echoHandler, "127.0.0.1", 0);
    try {
      const { reader, writer } = await openConnection("127.0.0.1", serverPort(server));
      for (const message of MESSAGES) writer.write(message);
      assert.equal(writer.canWriteEof(), true);
      writer.writeEof();
      await withTimeout(writer.drain(), WAIT_MS, "client drain");
      const echoed = await readToEof(reader);
      assert.equal(echoed.toString(), MESSAGES.join(""));
      assert.ok(reader.atEof());
      writer.close();
      await withTimeout(writer.waitClosed(), WAIT_MS, "client to close");
      assert.equal(writer.isClosing(), true);
    } finally {
      await shutDown(server);
    }
  });

  test("a megabyte written in small pieces and half-closed comes back byte for byte", async () => {
    const server = await startServer(echoHandler, "127.0.0.1", 0);
    try {
      const { reader, writer } = await openConnection("127.0.0.1", serverPort(server));
      const payload = randomBytes(1024 * 1024);
      // No drain here: the reply is read only after everything is written, and the
      // transport buffers it, so awaiting drain could deadlock against the echo.
      for (let at = 0; at < payload.length; at += 1000)
        writer.write(payload.subarray(at, at + 1000));
      writer.writeEof();
      const echoed = await readToEof(reader, 65536);
      assert.equal(echoed.length, payload.length);
      assert.ok(echoed.equals(payload));
      writer.close();
    } finally {
      await shutDown(server);
    }
  });

  test("a server handler can still write after reading the client's EOF", async () => {
    const server = await startServer(
      async (reader, writer) => {
        const all = await reader.read();
        writer.write(`got ${all.length} bytes\n`);
      },
      "127.0.0.1",
      0,
    );
    try {
      const { reader, writer } = await openConnection("127.0.0.1", serverPort(server));
      writer.write("12345");
      writer.writeEof();
      assert.equal((await readToEof(reader)).toString(), "got 5 bytes\n");
      writer.close();
    } finally {
      await shutDown(server);
    }
  });

  test("a client can still write after reading the server's EOF", async () => {
    const received = deferred<string>();
    const server = await startServer(
      async (reader: StreamReader, writer: StreamWriter) => {
        writer.write("hello");
        writer.writeEof();
        received.resolve((await reader.read()).toString());
      },
      "127.0.0.1",
      0,
    );
    try {
      const { reader, writer } = await openConnection("127.0.0.1", serverPort(server));
      assert.equal((await readToEof(reader)).toString(), "hello");
      writer.write("after your EOF");
      writer.close();
      assert.equal(await withTimeout(received.promise, WAIT_MS, "server read"), "after your EOF");
      await withTimeout(writer.waitClosed(), WAIT_MS, "client to close");
    } finally {
      await shutDown(server);
    }
  });

  test("the handler returning closes the connection after flushing what it wrote", async () => {
    const reply = Buffer.alloc(512 * 1024, 0x61);
    const server = await startServer((_reader, writer) => writer.write(reply), "127.0.0.1", 0);
    try {
      const { reader, writer } = await openConnection("127.0.0.1", serverPort(server));
      const got = await readToEof(reader, 65536);
      assert.equal(got.length, reply.length);
      writer.close();
      await waitFor(() => server.connections === 0, WAIT_MS, "the server connection to end");
    } finally {
      await shutDown(server);
    }
  });

  test("each handler's end closes its own connection, whichever ends first, fulfilled or rejected", async () => {
    // Handler i waits for its own signal, then ends as told: the ends must reach their own writers.
    const signals = [
      deferred<"ok" | "fail">(),
      deferred<"ok" | "fail">(),
      deferred<"ok" | "fail">(),
    ];
    const reported: Error[] = [];
    let next = 0;
    const server = await startServer(
      async (_reader, writer) => {
        const i = next++;
        writer.write(`${i}\n`);
        if ((await signals[i]!.promise) === "fail") throw new Error(`handler ${i} fails`);
      },
      "127.0.0.1",
      0,
      { onError: (error) => reported.push(error) },
    );
    try {
      const port = serverPort(server);
      const clients: { reader: StreamReader; writer: StreamWriter }[] = [];
      for (let i = 0; i < 3; i++) {
        const client = await openConnection("127.0.0.1", port);
        assert.equal(
          (await withTimeout(client.reader.readLine(), WAIT_MS, "hello")).toString(),
          `${i}\n`,
        );
        clients.push(client);
      }
      // The server's close reaches the client as EOF; the client's close then ends it.
      const eofs = clients.map(({ reader }) => readToEof(reader));
      const ended = async (i: number) => {
        assert.equal((await withTimeout(eofs[i]!, WAIT_MS, `EOF ${i}`)).length, 0);
        clients[i]!.writer.close();
      };
      signals[2]!.resolve("fail");
      await ended(2);
      signals[0]!.resolve("ok");
      await ended(0);
      await waitFor(() => server.connections === 1, WAIT_MS, "the two ended connections to close");
      assert.equal(await isPending(eofs[1]!, 50), true, "the waiting handler's connection closed");
      signals[1]!.resolve("ok");
      await ended(1);
      await waitFor(() => server.connections === 0, WAIT_MS, "every server connection to end");
      assert.deepEqual(
        reported.map((e) => e.message),
        ["handler 2 fails"],
      );
    } finally {
      // A failed check must not leave a handler waiting for ever.
      for (const signal of signals) signal.resolve("ok");
      await shutDown(server);
    }
  });

  test("writes after the connection is lost are dropped and drain rejects", async () => {
    const server = await startServer((_reader, writer) => writer.close(), "127.0.0.1", 0);
    try {
      const { reader, writer } = await openConnection("127.0.0.1", serverPort(server));
      assert.equal((await readToEof(reader)).length, 0);
      writer.close();
      await withTimeout(writer.waitClosed(), WAIT_MS, "client to close");
      writer.write("dropped");
      await assert.rejects(writer.drain(), {
        name: "ConnectionClosedError",
        code: "ERR_CONNECTION_CLOSED",
        message: "Cannot drain: connection lost",
      });
    } finally {
      await shutDown(server);
    }
  });

  test("a write after writeEof throws ConnectionClosedError", async () => {
    const server = await startServer(echoHandler, "127.0.0.1", 0);
    try {
      const { reader, writer } = await openConnection("127.0.0.1", serverPort(server));
      writer.writeEof();
      assert.throws(() => writer.write("late"), {
        name: "ConnectionClosedError",
        code: "ERR_CONNECTION_CLOSED",
        message: "Cannot write: the transport is half-closed",
      });
      assert.equal((await readToEof(reader)).length, 0);
      writer.close();
    } finally {
      await shutDown(server);
    }
  });
});
