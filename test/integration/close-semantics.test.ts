import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { lstatSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ConnectionClosedError } from "../../src/errors.js";
import { createServer } from "../../src/protocols/create-server.js";
import type { Protocol } from "../../src/protocols/protocol.js";
import type { Transport } from "../../src/protocols/transport.js";
import { openUnixConnection } from "../../src/streams/open-connection.js";
import { startUnixServer } from "../../src/streams/start-server.js";
import { makeTempDir, rawConnect, readToClose, WAIT_MS } from "../helpers/net.js";
import { deferred, echoHandler, readToEof, serverPort, shutDown } from "../helpers/servers.js";
import { isPending, sleep, withTimeout } from "../helpers/with-timeout.js";

/** A protocol made of `connectionMade` and `dataReceived` hooks that reports connectionLost. */
function protocolOf(
  hooks: {
    made?: (transport: Transport) => void;
    data?: (transport: Transport, data: Buffer) => void;
  },
  lost: { resolve: (error: Error | undefined) => void },
): () => Protocol {
  return () => {
    let transport: Transport;
    return {
      connectionMade(t) {
        transport = t;
        hooks.made?.(t);
      },
      dataReceived(data) {
        hooks.data?.(transport, data);
      },
      connectionLost(error) {
        lost.resolve(error);
      },
    };
  };
}

/** Leaves a socket file at `path` whose listener is gone: a child listens there and is SIGKILLed. */
async function leaveStaleSocket(path: string): Promise<void> {
  const script =
    'require("node:net").createServer().listen(process.env.SOCK, () => console.log("listening"))';
  const child = spawn(process.execPath, ["-e", script], {
    env: { ...process.env, SOCK: path },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        child.stdout.once("data", () => resolve());
        child.once("error", reject);
        child.once("exit", (code) => reject(new Error(`Listener child exited with ${code}`)));
      }),
      WAIT_MS,
      "the child to listen",
    );
  } finally {
    child.kill("SIGKILL");
    await withTimeout(exited, WAIT_MS, "the child to die");
  }
}

/** The error a connect to the Unix socket at `path` fails with, or undefined if it connects. */
function connectError(path: string): Promise<(Error & { code?: string }) | undefined> {
  return withTimeout(
    new Promise((resolve) => {
      const socket = net.connect({ path });
      socket.once("connect", () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once("error", resolve);
    }),
    WAIT_MS,
    `a connect to ${path}`,
  );
}

describe("Close semantics", () => {
  const clients: net.Socket[] = [];
  let dir: string;
  before(() => {
    dir = makeTempDir();
  });
  after(() => {
    for (const socket of clients) socket.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("lingering close()", () => {
    test("a client that keeps writing before it reads still receives the whole reply sent before close()", async () => {
      const reply = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < reply.length; i++) reply[i] = i % 251;
      const lost = deferred<Error | undefined>();
      const server = await createServer(
        protocolOf(
          {
            data: (transport) => {
              if (transport.isClosing()) return;
              transport.write(reply);
              transport.close();
            },
          },
          lost,
        ),
        "127.0.0.1",
        0,
      );
      try {
        const client = await rawConnect(serverPort(server));
        clients.push(client);
        let early: Error | undefined;
        client.on("error", (error) => {
          early ??= error;
        });
        client.write("go");
        // The server has closed by now; what the client still sends must not make it reset.
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        for (let round = 0; round < 16; round++) {
          client.write(chunk);
          await sleep(10);
        }
        const { data, error } = await readToClose(client);
        assert.equal(early, undefined);
        assert.equal(error, undefined);
        assert.equal(data.length, reply.length);
        assert.ok(data.equals(reply), "the reply arrives intact");
        assert.equal(await withTimeout(lost.promise, WAIT_MS, "connectionLost"), undefined);
      } finally {
        await shutDown(server);
      }
    });

    test("a client that never sends EOF is destroyed after the linger period", async () => {
      const lost = deferred<Error | undefined>();
      const afterClose: string[] = [];
      const server = await createServer(
        protocolOf(
          {
            made: (transport) => {
              transport.write("bye");
              transport.close();
            },
            data: (_, data) => afterClose.push(data.toString()),
          },
          lost,
        ),
        "127.0.0.1",
        0,
      );
      try {
        const client = await rawConnect(serverPort(server));
        clients.push(client);
        client.on("error", () => {});
        const chunks: Buffer[] = [];
        client.on("data", (chunk: Buffer) => chunks.push(chunk));
        await withTimeout(
          new Promise((resolve) => client.once("end", resolve)),
          WAIT_MS,
          "the server's EOF",
        );
        assert.equal(Buffer.concat(chunks).toString(), "bye");
        client.write("ignored");
        assert.equal(await isPending(lost.promise, 100), true, "the server lingers for EOF");
        assert.equal(await withTimeout(lost.promise, WAIT_MS, "connectionLost"), undefined);
        server.close();
        await withTimeout(server.waitClosed(), WAIT_MS, "waitClosed");
        assert.equal(server.connections, 0);
        assert.deepEqual(afterClose, []);
        assert.equal(client.writableEnded, false);
      } finally {
        await shutDown(server);
      }
    });
  });

  describe("writes after closing", () => {
    test("write() after close() is dropped silently and nothing more is sent", async () => {
      const lost = deferred<Error | undefined>();
      const thrown: unknown[] = [];
      const server = await createServer(
        protocolOf(
          {
            made: (transport) => {
              transport.write("before");
              transport.close();
              try {
                transport.write("after");
                transport.writeLines(["more", "lines"]);
              } catch (error) {
                thrown.push(error);
              }
            },
          },
          lost,
        ),
        "127.0.0.1",
        0,
      );
      try {
        const client = await rawConnect(serverPort(server));
        clients.push(client);
        const { data, error } = await readToClose(client);
        assert.equal(error, undefined);
        assert.equal(data.toString(), "before");
        assert.deepEqual(thrown, []);
        assert.equal(await withTimeout(lost.promise, WAIT_MS, "connectionLost"), undefined);
      } finally {
        await shutDown(server);
      }
    });

    test("write() after writeEof() throws ConnectionClosedError", async () => {
      const lost = deferred<Error | undefined>();
      const outcome = deferred<unknown>();
      const server = await createServer(
        protocolOf(
          {
            made: (transport) => {
              transport.write("half");
              transport.writeEof();
              try {
                transport.write("more");
                outcome.resolve("no error");
              } catch (error) {
                outcome.resolve(error);
              }
            },
          },
          lost,
        ),
        "127.0.0.1",
        0,
      );
      try {
        const client = await rawConnect(serverPort(server));
        clients.push(client);
        const { data } = await readToClose(client);
        assert.equal(data.toString(), "half");
        const error = await withTimeout(outcome.promise, WAIT_MS, "the write after writeEof");
        assert.ok(error instanceof ConnectionClosedError);
        assert.equal(error.code, "ERR_CONNECTION_CLOSED");
        assert.equal(error.message, "Cannot write: the transport is half-closed");
        await withTimeout(lost.promise, WAIT_MS, "connectionLost");
      } finally {
        await shutDown(server);
      }
    });
  });

  describe("Unix socket path", () => {
    test("a stale socket file left by a killed server is removed and the server binds", async () => {
      const path = join(dir, "stale.sock");
      await leaveStaleSocket(path);
      assert.ok(lstatSync(path).isSocket());
      assert.equal((await connectError(path))?.code, "ECONNREFUSED");
      const server = await startUnixServer(echoHandler, path);
      try {
        const { reader, writer } = await openUnixConnection(path);
        writer.write("fresh");
        writer.writeEof();
        assert.equal((await readToEof(reader)).toString(), "fresh");
        writer.close();
      } finally {
        await shutDown(server);
      }
    });

    test("a regular file at the path is kept and listen rejects with EADDRINUSE", async () => {
      const path = join(dir, "regular-file.sock");
      writeFileSync(path, "not a socket");
      await assert.rejects(startUnixServer(echoHandler, path), { code: "EADDRINUSE" });
      assert.equal(readFileSync(path, "utf8"), "not a socket");
    });
  });
});
