import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AbortError, TimeoutError } from "../../src/errors.js";
import type { SocketAddress } from "../../src/protocols/connection-info.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { startServer } from "../../src/streams/start-server.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { closedPort, type FullBacklog, fullBacklogServer, WAIT_MS } from "../helpers/net.js";
import { deferred, echoHandler, readToEof, serverPort, shutDown } from "../helpers/servers.js";
import { withTimeout } from "../helpers/with-timeout.js";

describe("openConnection", () => {
  test("a refused connection rejects with the system error ECONNREFUSED", async () => {
    const port = await closedPort();
    const error = await openConnection("127.0.0.1", port).catch((e: unknown) => e);
    assert.ok(error instanceof Error);
    assert.equal((error as NodeJS.ErrnoException).code, "ECONNREFUSED");
    assert.equal(error.message, `connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  test("an already aborted signal rejects before connecting", async () => {
    const reason = new Error("not now");
    await assert.rejects(
      openConnection("127.0.0.1", await closedPort(), { signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
  });

  test("aborting after the connection is made leaves it open", async () => {
    const server = await startServer(echoHandler, "127.0.0.1", 0);
    try {
      const controller = new AbortController();
      const { reader, writer } = await openConnection("127.0.0.1", serverPort(server), {
        signal: controller.signal,
      });
      controller.abort();
      writer.write("still here");
      writer.writeEof();
      assert.equal((await readToEof(reader)).toString(), "still here");
      writer.close();
    } finally {
      await shutDown(server);
    }
  });

  test("invalid ports are rejected before connecting", async () => {
    const cases: [unknown, string, string][] = [
      [-1, "RangeError", "Invalid port: must be an integer in 0..65535, got -1"],
      [70000, "RangeError", "Invalid port: must be an integer in 0..65535, got 70000"],
      [1.5, "RangeError", "Invalid port: must be an integer in 0..65535, got 1.5"],
      ["80", "TypeError", "Invalid port: expected a number, got string"],
    ];
    for (const [port, name, message] of cases) {
      await assert.rejects(openConnection("127.0.0.1", port as number), { name, message });
    }
  });
});

describe("openConnection against a listener whose accept queue is full", () => {
  let backlog: FullBacklog;
  before(async () => {
    backlog = await fullBacklogServer();
  });
  after(async () => {
    await backlog.close();
  });

  test("a timeout option that is negative or longer than a Node timer can wait is a RangeError, before connecting", async () => {
    for (const [name, value] of [
      ["connectTimeout", -1],
      ["idleTimeout", Number.POSITIVE_INFINITY],
      ["idleTimeout", 2 ** 31],
    ] as const) {
      await assert.rejects(openConnection("127.0.0.1", 9, { [name]: value }), {
        name: "RangeError",
        message: `Invalid connection option: ${name} must be a number in 0..2147483647 ms, got ${value}`,
      });
    }
  });

  test("connectTimeout rejects with TimeoutError while the handshake hangs", async () => {
    const error = await withTimeout(
      openConnection("127.0.0.1", backlog.port, { connectTimeout: 150 }).catch((e: unknown) => e),
      WAIT_MS,
      "the connect timeout",
    );
    assert.ok(error instanceof TimeoutError);
    assert.equal(error.code, "ERR_TIMEOUT");
    assert.equal(error.message, "Cannot connect: timed out after 150 ms");
  });

  test("an AbortSignal cancels a connect in progress", async () => {
    const controller = new AbortController();
    const pending = openConnection("127.0.0.1", backlog.port, { signal: controller.signal });
    setTimeout(() => controller.abort("user cancelled"), 50);
    const error = await withTimeout(
      pending.catch((e: unknown) => e),
      WAIT_MS,
      "the abort",
    );
    assert.ok(error instanceof AbortError);
    assert.equal(error.code, "ABORT_ERR");
    assert.equal(error.cause, "user cancelled");
  });
});

describe("getExtraInfo on TCP", () => {
  test("peername and sockname are address, port and family on both ends", async () => {
    const serverWriter = deferred<StreamWriter>();
    const server = await startServer(
      async (reader, writer) => {
        serverWriter.resolve(writer);
        await reader.read();
      },
      "127.0.0.1",
      0,
    );
    try {
      const port = serverPort(server);
      const { writer } = await openConnection("127.0.0.1", port);
      const remote = await withTimeout(serverWriter.promise, WAIT_MS, "the handler");
      const clientPeer = writer.getExtraInfo("peername") as SocketAddress;
      const clientSock = writer.getExtraInfo("sockname") as SocketAddress;
      assert.deepEqual(clientPeer, { address: "127.0.0.1", port, family: "IPv4" });
      assert.equal(clientSock.address, "127.0.0.1");
      assert.equal(clientSock.family, "IPv4");
      assert.deepEqual(Object.keys(clientSock).sort(), ["address", "family", "port"]);
      assert.deepEqual(remote.getExtraInfo("sockname"), clientPeer);
      assert.deepEqual(remote.getExtraInfo("peername"), clientSock);
      assert.ok(writer.getExtraInfo("socket") !== undefined);
      assert.equal(writer.getExtraInfo("peercert"), undefined);
      assert.equal(writer.getExtraInfo("cipher", "none"), "none");
      assert.equal(writer.getExtraInfo("no such thing", 42), 42);
      writer.close();
    } finally {
      await shutDown(server);
    }
  });
});
