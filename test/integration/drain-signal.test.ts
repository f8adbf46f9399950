import assert from "node:assert/strict";
import type net from "node:net";
import { describe, test } from "node:test";
import { AbortError, ConnectionClosedError } from "../../src/errors.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { portOf, rawServer, WAIT_MS } from "../helpers/net.js";
import { deferred } from "../helpers/servers.js";
import { isPending, waitFor, withTimeout } from "../helpers/with-timeout.js";

/** A server whose one peer reads nothing until the test resumes it. */
async function stalledPeer() {
  const peer = deferred<net.Socket>();
  const server = await rawServer((socket) => {
    socket.pause();
    socket.on("error", () => {});
    peer.resolve(socket);
  });
  return { server, port: portOf(server), socket: peer.promise };
}

describe("writer.drain({ signal })", () => {
  test("an abort rejects with the signal's reason and leaves the connection and other drains as they are", async () => {
    const peer = await stalledPeer();
    const { writer, reader } = await openConnection("127.0.0.1", peer.port);
    try {
      const chunk = Buffer.alloc(1024 * 1024, 0x62);
      while (!writer.needsDrain) writer.write(chunk);
      const controller = new AbortController();
      const reason = new Error("the user gave up");
      const cancelled = writer.drain({ signal: controller.signal });
      const plain = writer.drain();
      assert.equal(await isPending(cancelled), true);
      controller.abort(reason);
      await withTimeout(
        assert.rejects(cancelled, (error) => error === reason),
        WAIT_MS,
        "the cancelled drain",
      );
      assert.equal(writer.isClosing(), false, "the connection stays open");
      assert.ok(writer.transport.getWriteBufferSize() > 0, "its data still buffered");
      assert.equal(await isPending(plain), true, "a drain without the signal still waits");

      // The peer reads: the buffered data gets through and the other drain resolves.
      const socket = await peer.socket;
      let received = 0;
      socket.on("data", (data: Buffer) => (received += data.length));
      socket.resume();
      await withTimeout(plain, WAIT_MS, "the plain drain");
      await waitFor(() => received > 0, WAIT_MS, "bytes at the peer");
      assert.equal(reader.atEof(), false);
    } finally {
      writer.transport.abort();
      (await peer.socket).destroy();
      peer.server.close();
    }
  });

  test("an already aborted signal rejects at once, a non-Error reason as an AbortError", async () => {
    const peer = await stalledPeer();
    const { writer } = await openConnection("127.0.0.1", peer.port);
    try {
      await assert.rejects(writer.drain({ signal: AbortSignal.abort("stop") }), (error) => {
        assert.ok(error instanceof AbortError);
        assert.equal(error.code, "ABORT_ERR");
        assert.equal(error.cause, "stop");
        return true;
      });
      assert.equal(writer.isClosing(), false);
      // With nothing to wait for and a live signal, a drain resolves at once.
      await withTimeout(writer.drain({ signal: new AbortController().signal }), WAIT_MS, "drain");
    } finally {
      writer.transport.abort();
      (await peer.socket).destroy();
      peer.server.close();
    }
  });

  test("a loss before the abort still rejects with ConnectionClosedError", async () => {
    const peer = await stalledPeer();
    const { writer } = await openConnection("127.0.0.1", peer.port);
    try {
      const chunk = Buffer.alloc(1024 * 1024, 0x63);
      while (!writer.needsDrain) writer.write(chunk);
      const controller = new AbortController();
      const drain = writer.drain({ signal: controller.signal });
      (await peer.socket).destroy();
      await withTimeout(
        assert.rejects(drain, ConnectionClosedError),
        WAIT_MS,
        "the drain to fail with the loss",
      );
      controller.abort();
    } finally {
      writer.transport.abort();
      peer.server.close();
    }
  });
});
