import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TimeoutError } from "../../src/errors.js";
import { createServer, createUnixServer } from "../../src/protocols/create-server.js";
import type { Protocol } from "../../src/protocols/protocol.js";
import type { Transport } from "../../src/protocols/transport.js";
import type { ServerOptions } from "../../src/protocols/server.js";
import { startServer } from "../../src/streams/start-server.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { makeTempDir, rawConnect, readToClose, WAIT_MS } from "../helpers/net.js";
import { serverPort, shutDown } from "../helpers/servers.js";
import { isPending, sleep, waitFor, withTimeout } from "../helpers/with-timeout.js";

type DropReason = Parameters<NonNullable<ServerOptions["onDrop"]>>[1];

/**
 * Runs `run` on a recording echo server with two places and one session
 * (`maxConnections: 2, maxSessions: 1`, plus `options`), shutting it down after.
 */
async function withTwoPlacesOneSession(
  run: (server: Awaited<ReturnType<typeof startServer>>, port: number) => Promise<void>,
  options: Pick<ServerOptions, "onDrop"> = {},
): Promise<void> {
  const server = await startServer(recordingEcho([]), "127.0.0.1", 0, {
    maxConnections: 2,
    maxSessions: 1,
    ...options,
  });
  try {
    await run(server, serverPort(server));
  } finally {
    await shutDown(server);
  }
}

/** An echo handler that records every chunk it reads, in the order the server read them. */
function recordingEcho(served: string[]) {
  return async (reader: StreamReader, writer: StreamWriter): Promise<void> => {
    for (;;) {
      const data = await reader.read(128);
      if (data.length === 0) {
        writer.close();
        return;
      }
      served.push(data.toString());
      writer.write(data);
      await writer.drain();
    }
  };
}

/** The first `n` bytes `socket` receives, or less if it closes first. Not bounded: wrap it. */
function nextBytes(socket: net.Socket, n: number): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  return new Promise((resolve) => {
    const done = () => {
      socket.off("data", onData);
      socket.off("close", done);
      resolve(Buffer.concat(chunks).toString());
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= n) done();
    };
    socket.on("data", onData);
    socket.on("close", done);
  });
}

/** A raw client that sends `text` at once, with the promise of its echo. */
interface Talker {
  socket: net.Socket;
  reply: Promise<string>;
}

/** Connects a raw client from `host` that sends `text`; tracks it in `clients` for cleanup. */
async function talk(clients: net.Socket[], port: number, text: string, host = "127.0.0.1") {
  const socket = await rawConnect(port, host);
  socket.on("error", () => {});
  clients.push(socket);
  const reply = nextBytes(socket, text.length);
  socket.write(text);
  return { socket, reply } satisfies Talker;
}

/** Waits (bounded) for the echo of `text`. */
async function echoed(talker: Talker, text: string): Promise<void> {
  assert.equal(await withTimeout(talker.reply, WAIT_MS, `the echo of ${text}`), text);
}

/** Whether this host can listen on the IPv6 loopback. */
function ipv6Loopback(): Promise<boolean> {
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once("error", () => resolve(false));
    probe.listen({ host: "::1", port: 0 }, () => probe.close(() => resolve(true)));
  });
}

describe("Server limits", () => {
  let clients: net.Socket[] = [];
  let dir: string;
  before(() => {
    dir = makeTempDir();
  });
  after(() => {
    for (const socket of clients) socket.destroy();
    clients = [];
    rmSync(dir, { recursive: true, force: true });
  });

  describe("maxSessions", () => {
    /** A one-session echo server with client `a` served and client `b` waiting behind it. */
    async function oneServedOneWaiting(served: string[]) {
      const server = await startServer(recordingEcho(served), "127.0.0.1", 0, { maxSessions: 1 });
      try {
        const port = serverPort(server);
        const a = await talk(clients, port, "a");
        await echoed(a, "a");
        const b = await talk(clients, port, "b");
        await waitFor(() => server.waiting === 1, WAIT_MS, "b to wait");
        return { server, port, a, b };
      } catch (error) {
        await shutDown(server);
        throw error;
      }
    }

    test("a second client connects but is neither read nor answered until the first session ends", async () => {
      const served: string[] = [];
      const server = await startServer(recordingEcho(served), "127.0.0.1", 0, { maxSessions: 1 });
      try {
        const port = serverPort(server);
        const first = await talk(clients, port, "one");
        await echoed(first, "one");
        const second = await talk(clients, port, "two");
        await waitFor(() => server.waiting === 1, WAIT_MS, "the second connection to wait");
        assert.equal(server.connections, 1);
        assert.equal(await isPending(second.reply, 100), true);
        assert.deepEqual(served, ["one"]);
        first.socket.end();
        await echoed(second, "two");
        assert.equal(server.waiting, 0);
        assert.deepEqual(served, ["one", "two"]);
      } finally {
        await shutDown(server);
      }
    });

    test("waiting clients are served one at a time in arrival order", async () => {
      const served: string[] = [];
      const { server, port, a, b } = await oneServedOneWaiting(served);
      try {
        const c = await talk(clients, port, "c");
        await waitFor(() => server.waiting === 2, WAIT_MS, "c to wait");
        a.socket.end();
        await echoed(b, "b");
        assert.equal(await isPending(c.reply, 50), true);
        assert.equal(server.waiting, 1);
        b.socket.end();
        await echoed(c, "c");
        assert.deepEqual(served, ["a", "b", "c"]);
      } finally {
        await shutDown(server);
      }
    });

    test("closeClients() closes waiting connections without serving them", async () => {
      const served: string[] = [];
      const { server, a, b } = await oneServedOneWaiting(served);
      try {
        const closed = [a.socket, b.socket].map(readToClose);
        server.close();
        server.closeClients();
        assert.equal(server.waiting, 0);
        const [aLeft, bLeft] = await Promise.all(closed);
        assert.equal(aLeft?.data.length, 0);
        assert.equal(bLeft?.data.length, 0);
        assert.equal(await withTimeout(b.reply, WAIT_MS, "b to close"), "");
        await withTimeout(server.waitClosed(), WAIT_MS, "waitClosed");
        assert.deepEqual(served, ["a"]);
      } finally {
        await shutDown(server);
      }
    });

    test("abortWaiting() closes only the waiting connections; the active one goes on", async () => {
      const served: string[] = [];
      const { server, a, b } = await oneServedOneWaiting(served);
      try {
        server.abortWaiting();
        assert.equal(server.waiting, 0);
        assert.equal(await withTimeout(b.reply, WAIT_MS, "b to close"), "");
        const again = nextBytes(a.socket, 5);
        a.socket.write("again");
        assert.equal(await withTimeout(again, WAIT_MS, "a's second echo"), "again");
        assert.deepEqual(served, ["a", "again"]);
      } finally {
        await shutDown(server);
      }
    });

    test("waitClosed() waits for connections still waiting for a session", async () => {
      const served: string[] = [];
      const { server, a, b } = await oneServedOneWaiting(served);
      try {
        server.close();
        const closed = server.waitClosed();
        assert.equal(await isPending(closed, 20), true);
        a.socket.end();
        await echoed(b, "b");
        assert.equal(await isPending(closed, 20), true);
        b.socket.end();
        await withTimeout(closed, WAIT_MS, "waitClosed after the waiting client");
        assert.deepEqual(served, ["a", "b"]);
      } finally {
        await shutDown(server);
      }
    });
  });

  describe("maxConnections", () => {
    test("the connection beyond the limit is closed at once, counted and reported to onDrop", async () => {
      const drops: [number | undefined, DropReason][] = [];
      const server = await startServer(recordingEcho([]), "127.0.0.1", 0, {
        maxConnections: 2,
        onDrop: (socket, reason) => drops.push([socket.remotePort, reason]),
      });
      try {
        const port = serverPort(server);
        const a = await talk(clients, port, "a");
        const b = await talk(clients, port, "b");
        await Promise.all([echoed(a, "a"), echoed(b, "b")]);
        const extra = await rawConnect(port);
        clients.push(extra);
        const extraPort = extra.localPort;
        const { data } = await readToClose(extra);
        assert.equal(data.length, 0);
        assert.equal(server.dropped, 1);
        assert.equal(server.connections, 2);
        assert.deepEqual(drops, [[extraPort, "maxConnections"]], "onDrop can tell who was dropped");
        a.socket.end();
        await waitFor(() => server.connections === 1, WAIT_MS, "a to end");
        await echoed(await talk(clients, port, "later"), "later");
        assert.equal(server.dropped, 1);
      } finally {
        await shutDown(server);
      }
    });

    test("connections waiting for a session count toward maxConnections", async () => {
      const reasons: DropReason[] = [];
      await withTwoPlacesOneSession(
        async (server, port) => {
          const a = await talk(clients, port, "a");
          await echoed(a, "a");
          await talk(clients, port, "b");
          await waitFor(() => server.waiting === 1, WAIT_MS, "b to wait");
          const extra = await rawConnect(port);
          clients.push(extra);
          assert.equal((await readToClose(extra)).data.length, 0);
          assert.deepEqual(reasons, ["maxConnections"]);
          assert.equal(server.dropped, 1);
          assert.equal(server.waiting, 1);
        },
        { onDrop: (_, reason) => reasons.push(reason) },
      );
    });
  });

  describe("maxConnections: each admitted connection frees its place exactly once", () => {
    /** Connects a client that is refused or served; resolves with whether it was dropped. */
    async function refused(server: { dropped: number }, port: number): Promise<boolean> {
      const before = server.dropped;
      const socket = await rawConnect(port);
      socket.on("error", () => {});
      clients.push(socket);
      // A refused socket is destroyed at accept and closes at once; an admitted one
      // stays open, so only a wrong admission waits out the bound (never a slow refusal).
      await withTimeout(readToClose(socket), WAIT_MS, "a refused socket's close").catch(
        () => undefined,
      );
      return server.dropped > before;
    }

    test("one that waited for a session, then was served and closed", async () => {
      await withTwoPlacesOneSession(async (server, port) => {
        const a = await talk(clients, port, "a");
        await echoed(a, "a");
        const b = await talk(clients, port, "b");
        await waitFor(() => server.waiting === 1, WAIT_MS, "b to wait");
        a.socket.end();
        await echoed(b, "b");
        b.socket.end();
        await waitFor(() => server.connections === 0, WAIT_MS, "b to end");
        // Two places again, no more: a third is refused.
        const c = await talk(clients, port, "c");
        await echoed(c, "c");
        await talk(clients, port, "d");
        await waitFor(() => server.waiting === 1, WAIT_MS, "d to wait");
        assert.equal(await refused(server, port), true, "a place freed twice lets a third in");
        assert.equal(server.dropped, 1);
      });
    });

    test("one closed unserved while it waited for a session", async () => {
      await withTwoPlacesOneSession(async (server, port) => {
        const a = await talk(clients, port, "a");
        await echoed(a, "a");
        const b = await talk(clients, port, "b");
        await waitFor(() => server.waiting === 1, WAIT_MS, "b to wait");
        server.abortWaiting();
        await withTimeout(b.reply, WAIT_MS, "b to close");
        // b's place comes back, once: c waits in it, d is refused.
        await talk(clients, port, "c");
        await waitFor(() => server.waiting === 1 || server.dropped > 0, WAIT_MS, "c to wait");
        assert.equal(server.dropped, 0, "b's place was never freed");
        assert.equal(await refused(server, port), true, "b's place was freed twice");
      });
    });

    test("one whose protocol factory threw, or whose connectionMade threw", async () => {
      let calls = 0;
      const server = await createServer(
        (): Protocol => {
          calls++;
          if (calls === 1) throw new Error("factory fails");
          return {
            connectionMade: () => {
              throw new Error("connectionMade fails");
            },
            dataReceived: () => {},
            connectionLost: () => {},
          };
        },
        "127.0.0.1",
        0,
        { maxConnections: 1, onError: () => {} },
      );
      try {
        const port = serverPort(server);
        for (let i = 0; i < 3; i++) {
          const socket = await rawConnect(port);
          clients.push(socket);
          socket.on("error", () => {});
          await withTimeout(readToClose(socket), WAIT_MS, `connection ${i} to be closed`);
          await waitFor(() => calls === i + 1, WAIT_MS, `connection ${i} to be served`);
        }
        assert.equal(server.dropped, 0, "a failed connection kept its place");
      } finally {
        await shutDown(server);
      }
    });

    test("one counted per peer, served and closed", async () => {
      const server = await startServer(recordingEcho([]), "127.0.0.1", 0, {
        maxConnectionsPerPeer: 1,
      });
      try {
        const port = serverPort(server);
        const a = await talk(clients, port, "a");
        await echoed(a, "a");
        a.socket.end();
        await waitFor(() => server.connections === 0, WAIT_MS, "a to end");
        const b = await talk(clients, port, "b");
        await echoed(b, "b");
        assert.equal(await refused(server, port), true, "the peer's place was freed twice");
        assert.equal(server.dropped, 1);
      } finally {
        await shutDown(server);
      }
    });
  });

  describe("maxConnectionsPerPeer", () => {
    test("a third connection from one address is dropped while another address is served, until one closes", async (t) => {
      if (!(await ipv6Loopback())) {
        t.skip("::1 is not available on this host, so there is no second peer address");
        return;
      }
      const reasons: DropReason[] = [];
      const peers: (string | undefined)[] = [];
      const server = await startServer(recordingEcho([]), ["127.0.0.1", "::1"], 0, {
        maxConnectionsPerPeer: 2,
        onDrop: (socket, reason) => {
          reasons.push(reason);
          peers.push(socket.remoteAddress);
        },
      });
      try {
        const port = serverPort(server);
        const a = await talk(clients, port, "a");
        const b = await talk(clients, port, "b");
        await Promise.all([echoed(a, "a"), echoed(b, "b")]);
        const third = await rawConnect(port, "127.0.0.1");
        clients.push(third);
        assert.equal((await readToClose(third)).data.length, 0);
        assert.deepEqual(reasons, ["maxConnectionsPerPeer"]);
        assert.deepEqual(peers, ["127.0.0.1"]);
        await echoed(await talk(clients, port, "v6", "::1"), "v6");
        assert.equal(server.connections, 3);
        a.socket.end();
        await waitFor(() => server.connections === 2, WAIT_MS, "a to end");
        await echoed(await talk(clients, port, "again"), "again");
        assert.equal(server.dropped, 1);
      } finally {
        await shutDown(server);
      }
    });
  });

  describe("idleTimeout", () => {
    /** An echo protocol whose connectionLost errors land in `lost`. */
    const echoFactory = (lost: (Error | undefined)[]) => (): Protocol => {
      let transport: Transport;
      return {
        connectionMade: (t) => {
          transport = t;
        },
        dataReceived: (data) => transport.write(data),
        connectionLost: (error) => lost.push(error),
      };
    };

    test("a silent connection is closed and connectionLost gets a TimeoutError", async () => {
      const lost: (Error | undefined)[] = [];
      const server = await createServer(echoFactory(lost), "127.0.0.1", 0, { idleTimeout: 100 });
      try {
        const client = await rawConnect(serverPort(server));
        clients.push(client);
        assert.equal((await readToClose(client)).data.length, 0);
        await waitFor(() => lost.length === 1, WAIT_MS, "connectionLost");
        const [error] = lost;
        assert.ok(error instanceof TimeoutError);
        assert.equal((error as TimeoutError).code, "ERR_TIMEOUT");
        assert.equal(error.message, "Connection closed: idle timeout");
      } finally {
        await shutDown(server);
      }
    });

    test("a peer that keeps sending but reads none of the replies is closed as idle", async () => {
      const lost: (Error | undefined)[] = [];
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      // Writes until its buffer is full (the kernel's buffers take the first
      // megabytes), and again each time it empties a little.
      const flooder = (): Protocol => {
        let transport: Transport;
        let paused = false;
        const fill = () => {
          for (let i = 0; i < 64 && !paused; i++) transport.write(chunk);
        };
        return {
          connectionMade: (t) => {
            transport = t;
            fill();
          },
          dataReceived: () => {},
          pauseWriting: () => {
            paused = true;
          },
          resumeWriting: () => {
            paused = false;
            fill();
          },
          connectionLost: (error) => lost.push(error),
        };
      };
      const server = await createServer(flooder, "127.0.0.1", 0, { idleTimeout: 200 });
      const client = await rawConnect(serverPort(server));
      clients.push(client);
      client.on("error", () => {});
      // The client never reads; it sends a byte every 20 ms, far inside the timeout.
      const trickle = setInterval(() => {
        if (!client.destroyed) client.write("x");
      }, 20);
      try {
        await waitFor(() => lost.length === 1, WAIT_MS, "connectionLost");
        const [error] = lost;
        assert.ok(error instanceof TimeoutError, `expected a TimeoutError, got ${String(error)}`);
        // Its replies were waiting: the message says how many bytes never went out.
        assert.match(error.message, /^Connection closed: idle timeout with \d+ bytes unsent$/);
      } finally {
        clearInterval(trickle);
        await shutDown(server);
      }
    });

    test("a connection that keeps sending within the timeout stays open", async () => {
      const lost: (Error | undefined)[] = [];
      const server = await createServer(echoFactory(lost), "127.0.0.1", 0, { idleTimeout: 400 });
      try {
        const client = await rawConnect(serverPort(server));
        client.on("error", () => {});
        clients.push(client);
        // Eight rounds, 80 ms apart: together longer than the timeout, each well inside it.
        for (let round = 0; round < 8; round++) {
          const text = `ping ${round}`;
          const reply = nextBytes(client, text.length);
          client.write(text);
          assert.equal(await withTimeout(reply, WAIT_MS, `echo ${round}`), text);
          await sleep(80);
        }
        assert.deepEqual(lost, []);
        assert.equal(server.connections, 1);
        assert.equal(client.destroyed, false);
      } finally {
        await shutDown(server);
      }
    });
  });

  describe("invalid options", () => {
    test("an idleTimeout longer than a Node timer can wait rejects with a RangeError", async () => {
      await assert.rejects(
        createServer(
          () => ({ connectionMade() {}, dataReceived() {}, connectionLost() {} }),
          "127.0.0.1",
          0,
          {
            idleTimeout: 2 ** 31,
          },
        ),
        {
          name: "RangeError",
          message:
            "Invalid server option: idleTimeout must be at most 2147483647 ms, got 2147483648",
        },
      );
    });

    const cases: [keyof ServerOptions, number][] = [
      ["maxSessions", -1],
      ["maxSessions", 1.5],
      ["maxSessions", Number.NaN],
      ["maxConnectionsPerPeer", -2],
      ["maxConnectionsPerPeer", 0.5],
      ["maxConnections", -1],
      ["maxConnections", 2.25],
      ["maxConnections", Number.POSITIVE_INFINITY],
    ];
    const factory = (): Protocol => ({
      connectionMade() {},
      dataReceived() {},
      connectionLost() {},
    });
    cases.forEach(([name, value], index) => {
      test(`${name}: ${value} rejects with a RangeError before listening`, async () => {
        const expected = {
          name: "RangeError",
          message: `Invalid server option: ${name} must be an integer >= 0, got ${value}`,
        };
        const path = join(dir, `invalid-${index}.sock`);
        await assert.rejects(createUnixServer(factory, path, { [name]: value }), expected);
        assert.equal(existsSync(path), false);
        await assert.rejects(createServer(factory, "127.0.0.1", 0, { [name]: value }), expected);
      });
    });
  });
});
