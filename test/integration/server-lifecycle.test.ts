import assert from "node:assert/strict";
import type net from "node:net";
import { describe, test } from "node:test";
import { peerLoggerName, peerOf } from "../../src/apps/peer.js";
import type { ConnectionInfo } from "../../src/protocols/connection-info.js";
import { createServer } from "../../src/protocols/create-server.js";
import { Server } from "../../src/protocols/server.js";
import type { Transport } from "../../src/protocols/transport.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { startServer } from "../../src/streams/start-server.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { rawConnect, readToClose, WAIT_MS } from "../helpers/net.js";
import { deferred, echoHandler, readToEof, serverPort, shutDown } from "../helpers/servers.js";
import { isPending, waitFor, withTimeout } from "../helpers/with-timeout.js";

/** Echoes one round trip so the test knows the connection is being served. */
async function roundTrip(reader: StreamReader, writer: StreamWriter, text: string) {
  writer.write(text);
  assert.equal(
    (await withTimeout(reader.readExactly(text.length), WAIT_MS, "echo")).toString(),
    text,
  );
}

describe("Server lifecycle", () => {
  test("close() stops accepting while open connections go on", async () => {
    const server = await startServer(echoHandler, "127.0.0.1", 0);
    try {
      const port = serverPort(server);
      const { reader, writer } = await openConnection("127.0.0.1", port);
      await roundTrip(reader, writer, "before");
      server.close();
      server.close();
      assert.equal(server.isServing(), false);
      await assert.rejects(openConnection("127.0.0.1", port), { code: "ECONNREFUSED" });
      await roundTrip(reader, writer, "after close");
      assert.equal(server.connections, 1);
      writer.writeEof();
      assert.equal((await readToEof(reader)).length, 0);
      writer.close();
      await withTimeout(server.waitClosed(), WAIT_MS, "waitClosed after the last client");
    } finally {
      await shutDown(server);
    }
  });

  test("closeClients() flushes pending replies, then closes each connection", async () => {
    const reply = Buffer.alloc(2 * 1024 * 1024, 0x72);
    const server = await startServer(
      async (reader, writer) => {
        writer.write(reply);
        await reader.read();
      },
      "127.0.0.1",
      0,
    );
    try {
      const client = await rawConnect(serverPort(server));
      await waitFor(() => server.connections === 1, WAIT_MS, "the connection");
      const received = readToClose(client);
      server.close();
      server.closeClients();
      const { data, error } = await received;
      assert.equal(error, undefined);
      assert.equal(data.length, reply.length);
      await withTimeout(server.waitClosed(), WAIT_MS, "waitClosed");
      assert.equal(server.connections, 0);
    } finally {
      await shutDown(server);
    }
  });

  test("abortClients() closes every connection at once and lets handlers finish", async () => {
    const ended = deferred<number>();
    const server = await startServer(
      async (reader) => ended.resolve((await reader.read()).length),
      "127.0.0.1",
      0,
    );
    try {
      const clients = await Promise.all([1, 2, 3].map(() => rawConnect(serverPort(server))));
      await waitFor(() => server.connections === 3, WAIT_MS, "three connections");
      const closed = clients.map(readToClose);
      server.close();
      server.abortClients();
      for (const { data } of await Promise.all(closed)) assert.equal(data.length, 0);
      assert.equal(await withTimeout(ended.promise, WAIT_MS, "the handler"), 0);
      await withTimeout(server.waitClosed(), WAIT_MS, "waitClosed");
    } finally {
      await shutDown(server);
    }
  });

  test("waitClosed() waits for close() and for running handlers, and resolves at once when idle", async () => {
    const release = deferred();
    const started = deferred();
    const server = await startServer(
      async () => {
        started.resolve();
        await release.promise;
      },
      "127.0.0.1",
      0,
    );
    try {
      const before = server.waitClosed();
      assert.equal(await isPending(before, 20), true);
      const client = await rawConnect(serverPort(server));
      await withTimeout(started.promise, WAIT_MS, "the handler to start");
      server.close();
      assert.equal(await isPending(before, 20), true);
      client.destroy();
      server.abortClients();
      await waitFor(() => server.connections === 0, WAIT_MS, "the connection to end");
      assert.equal(await isPending(before, 20), true);
      release.resolve();
      await withTimeout(before, WAIT_MS, "waitClosed after the handler");
      assert.equal(await isPending(server.waitClosed(), 0), false);
    } finally {
      release.resolve();
      await shutDown(server);
    }
  });

  test("serveForever() resolves on close(), on its signal and on the server's signal", async () => {
    const servers: Server[] = [];
    try {
      const a = await startServer(echoHandler, "127.0.0.1", 0);
      servers.push(a);
      const forever = a.serveForever();
      assert.equal(await isPending(forever, 10), true);
      a.close();
      await withTimeout(forever, WAIT_MS, "serveForever after close");
      await withTimeout(a.serveForever(), WAIT_MS, "serveForever on a closed server");

      const b = await startServer(echoHandler, "127.0.0.1", 0);
      servers.push(b);
      const controller = new AbortController();
      const bForever = b.serveForever(controller.signal);
      controller.abort();
      await withTimeout(bForever, WAIT_MS, "serveForever after abort");
      assert.equal(b.isServing(), false);

      const serverSignal = new AbortController();
      const c = await startServer(echoHandler, "127.0.0.1", 0, { signal: serverSignal.signal });
      servers.push(c);
      const cForever = c.serveForever();
      serverSignal.abort();
      await withTimeout(cForever, WAIT_MS, "serveForever after the server's signal");
      assert.equal(c.isServing(), false);
    } finally {
      await Promise.all(servers.map(shutDown));
    }
  });

  test("await using closes the server and its connections at the end of the block", async () => {
    let kept: Server | undefined;
    let clientReader: StreamReader | undefined;
    {
      await using server = await startServer(echoHandler, "127.0.0.1", 0);
      kept = server;
      const { reader, writer } = await openConnection("127.0.0.1", serverPort(server));
      clientReader = reader;
      await roundTrip(reader, writer, "inside");
    }
    assert.equal(kept.isServing(), false);
    assert.equal(kept.connections, 0);
    assert.equal((await readToEof(clientReader)).length, 0);
  });

  test("port 0 picks one free port, reported by address() and sockets", async () => {
    const server = await startServer(echoHandler, "127.0.0.1", 0);
    try {
      const address = server.address() as net.AddressInfo;
      assert.equal(address.address, "127.0.0.1");
      assert.equal(address.family, "IPv4");
      assert.ok(address.port > 0);
      assert.deepEqual(server.sockets, [address]);
    } finally {
      await shutDown(server);
    }
  });

  const hostCases: [string, string | string[], string[]][] = [
    ["localhost", "localhost", ["localhost"]],
    ["a list of 127.0.0.1 and ::1", ["127.0.0.1", "::1"], ["127.0.0.1", "::1"]],
  ];
  for (const [what, hosts, connectTo] of hostCases) {
    test(`listening on ${what} is reachable on every address with one port`, async () => {
      const server = await startServer(echoHandler, hosts, 0);
      try {
        const port = serverPort(server);
        const sockets = server.sockets as net.AddressInfo[];
        assert.ok(sockets.length >= connectTo.length);
        for (const socket of sockets) assert.equal(socket.port, port);
        for (const host of connectTo) {
          const { reader, writer } = await openConnection(host, port);
          await roundTrip(reader, writer, `via ${host}`);
          writer.close();
        }
      } finally {
        await shutDown(server);
      }
    });
  }

  test("maxConnections drops the extra connection, counts it and keeps serving", async () => {
    const dropped: net.Socket[] = [];
    const server = await startServer(echoHandler, "127.0.0.1", 0, {
      maxConnections: 1,
      onDrop: (socket) => dropped.push(socket),
    });
    try {
      const port = serverPort(server);
      const first = await openConnection("127.0.0.1", port);
      await roundTrip(first.reader, first.writer, "first");
      const extra = await rawConnect(port);
      const { data } = await readToClose(extra);
      assert.equal(data.length, 0);
      assert.equal(server.dropped, 1);
      assert.equal(dropped.length, 1);
      assert.equal(server.connections, 1);
      first.writer.close();
      await waitFor(() => server.connections === 0, WAIT_MS, "the first connection to end");
      const later = await openConnection("127.0.0.1", port);
      await roundTrip(later.reader, later.writer, "later");
      later.writer.close();
      assert.equal(server.dropped, 1);
    } finally {
      await shutDown(server);
    }
  });

  test("idleTimeout closes a silent connection and fails its pending read with TimeoutError", async () => {
    const failures: Error[] = [];
    const server = await startServer(
      async (reader) => {
        await reader.read();
      },
      "127.0.0.1",
      0,
      { idleTimeout: 100, onError: (error) => failures.push(error) },
    );
    try {
      const client = await rawConnect(serverPort(server));
      const { data } = await readToClose(client);
      assert.equal(data.length, 0);
      await waitFor(() => failures.length === 1, WAIT_MS, "the handler to fail");
      assert.equal(failures[0]?.name, "TimeoutError");
      assert.equal((failures[0] as { code?: string }).code, "ERR_TIMEOUT");
      assert.equal(failures[0]?.message, "Connection closed: idle timeout");
    } finally {
      await shutDown(server);
    }
  });

  test("a port already in use rejects with EADDRINUSE without reporting through onError", async () => {
    const server = await startServer(echoHandler, "127.0.0.1", 0);
    const reported: Error[] = [];
    try {
      await assert.rejects(
        startServer(echoHandler, "127.0.0.1", serverPort(server), {
          onError: (error) => reported.push(error),
        }),
        { code: "EADDRINUSE" },
      );
      assert.deepEqual(reported, []);
    } finally {
      await shutDown(server);
    }
  });
});

describe("startServer handlers that are not async functions", () => {
  /** Connects, half-closes, and returns what the server sent before closing. */
  async function greeting(port: number): Promise<string> {
    const { reader, writer } = await openConnection("127.0.0.1", port);
    try {
      writer.writeEof();
      return (await withTimeout(readToEof(reader), WAIT_MS, "the server's close")).toString();
    } finally {
      writer.close();
    }
  }

  test("a handler that returns at once has its connection closed after what it wrote", async () => {
    const server = await startServer((_reader, writer) => writer.write("hi\n"), "127.0.0.1", 0);
    try {
      assert.equal(await greeting(serverPort(server)), "hi\n");
      server.close();
      await withTimeout(server.waitClosed(), WAIT_MS, "waitClosed");
    } finally {
      await shutDown(server);
    }
  });

  test("a handler that returns a thenable is followed until it settles", async () => {
    const release = deferred();
    const server = await startServer(
      (_reader, writer) => ({
        then(onFulfilled: () => void) {
          void release.promise.then(() => {
            writer.write("late\n");
            onFulfilled();
          });
        },
      }),
      "127.0.0.1",
      0,
    );
    try {
      const seen = greeting(serverPort(server));
      assert.ok(await isPending(seen));
      release.resolve();
      assert.equal(await seen, "late\n");
    } finally {
      await shutDown(server);
    }
  });
});

describe("Server seams", () => {
  const silent = () => ({ connectionMade() {}, dataReceived() {}, connectionLost() {} });

  test("listen() on a closed server throws InvalidStateError", async () => {
    const server = new Server(silent);
    server.close();
    await assert.rejects(server.listen({ host: "127.0.0.1", port: 0 }), {
      name: "InvalidStateError",
      code: "ERR_INVALID_STATE",
      message: "Cannot listen: the server is closed",
    });
    assert.equal(server.isServing(), false);
  });

  test("waitClosed() waits for tracked tasks, fulfilled or rejected", async () => {
    const server = await createServer(silent, "127.0.0.1", 0);
    const first = deferred();
    const second = deferred();
    server.trackTask(first.promise);
    server.trackTask(second.promise);
    server.close();
    const closed = server.waitClosed();
    assert.equal(await isPending(closed), true);
    first.resolve();
    assert.equal(await isPending(closed), true, "one task is still running");
    second.reject(new Error("the task failed"));
    await withTimeout(closed, WAIT_MS, "waitClosed after both tasks settled");
  });

  test("reportError() goes to onError with the transport; a non-Error is wrapped", async () => {
    const reported: [Error, Transport | undefined][] = [];
    const server = await createServer(silent, "127.0.0.1", 0, {
      onError: (error, transport) => reported.push([error, transport]),
    });
    try {
      server.reportError(new Error("boom"));
      server.reportError("not an error");
      assert.deepEqual(
        reported.map(([error, transport]) => [error.message, transport]),
        [
          ["boom", undefined],
          ["not an error", undefined],
        ],
      );
      assert.ok(reported[1]?.[0] instanceof Error);
    } finally {
      await shutDown(server);
    }
  });

  test("a transport's ConnectionInfo still names the peer after the peer reset the connection", async () => {
    const lost = deferred<{ info: ConnectionInfo; peername: unknown; peer: string }>();
    const server = await createServer(
      () => {
        let transport: Transport;
        return {
          connectionMade(made: Transport) {
            transport = made;
          },
          dataReceived() {},
          connectionLost() {
            lost.resolve({
              info: transport.info,
              peername: transport.getExtraInfo("peername"),
              peer: peerLoggerName("p", peerOf(transport)),
            });
          },
        };
      },
      "127.0.0.1",
      0,
    );
    try {
      const port = serverPort(server);
      const client = await rawConnect(port);
      const clientPort = client.localPort;
      await waitFor(() => server.connections === 1, WAIT_MS, "the connection");
      client.resetAndDestroy();
      const { info, peername, peer } = await withTimeout(lost.promise, WAIT_MS, "connectionLost");
      const expected = { address: "127.0.0.1", port: clientPort, family: "IPv4" };
      assert.deepEqual(peername, expected);
      assert.deepEqual(info.peername, expected);
      assert.deepEqual(info.sockname, { address: "127.0.0.1", port, family: "IPv4" });
      assert.equal(peer, `p_127.0.0.1_${clientPort}`);
      assert.equal(info.tls, undefined);
      assert.ok(Object.isFrozen(info), "the snapshot cannot be changed");
    } finally {
      await shutDown(server);
    }
  });
});
