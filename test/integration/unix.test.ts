import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createUnixConnection } from "../../src/protocols/create-connection.js";
import { createUnixServer } from "../../src/protocols/create-server.js";
import type { Transport } from "../../src/protocols/transport.js";
import { openUnixConnection } from "../../src/streams/open-connection.js";
import { startUnixServer } from "../../src/streams/start-server.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { makeTempDir, WAIT_MS } from "../helpers/net.js";
import { deferred, echoHandler, readToEof, shutDown } from "../helpers/servers.js";
import { withTimeout } from "../helpers/with-timeout.js";

describe("Unix sockets", () => {
  let dir: string;
  before(() => {
    dir = makeTempDir();
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("a streams echo round-trips over a Unix socket, which close() removes", async () => {
    const path = join(dir, "echo.sock");
    const server = await startUnixServer(echoHandler, path);
    try {
      assert.equal(server.address(), path);
      assert.deepEqual(server.sockets, [path]);
      assert.ok(existsSync(path));
      const { reader, writer } = await openUnixConnection(path);
      assert.equal(writer.canWriteEof(), true);
      writer.write("over unix");
      writer.writeEof();
      assert.equal((await readToEof(reader)).toString(), "over unix");
      writer.close();
      server.close();
      assert.equal(existsSync(path), false);
      await withTimeout(server.waitClosed(), WAIT_MS, "waitClosed");
    } finally {
      await shutDown(server);
    }
  });

  test("peername and sockname are the socket path on the side that has it, empty on the other", async () => {
    const path = join(dir, "names.sock");
    const serverWriter = deferred<StreamWriter>();
    const server = await startUnixServer(async (reader, writer) => {
      serverWriter.resolve(writer);
      await reader.read();
    }, path);
    try {
      const { writer } = await openUnixConnection(path);
      const remote = await withTimeout(serverWriter.promise, WAIT_MS, "the handler");
      assert.equal(writer.getExtraInfo("peername"), path);
      assert.equal(writer.getExtraInfo("sockname"), "");
      assert.equal(remote.getExtraInfo("sockname"), path);
      assert.equal(remote.getExtraInfo("peername"), "");
      writer.close();
    } finally {
      await shutDown(server);
    }
  });

  test("the protocol layer runs the full callback sequence over a Unix socket", async () => {
    const path = join(dir, "protocol.sock");
    const calls: string[] = [];
    const lost = deferred();
    const server = await createUnixServer(
      () => ({
        connectionMade(transport: Transport) {
          calls.push("connectionMade");
          transport.write("hi");
        },
        dataReceived() {
          calls.push("dataReceived");
        },
        eofReceived() {
          calls.push("eofReceived");
        },
        connectionLost() {
          calls.push("connectionLost");
          lost.resolve();
        },
      }),
      path,
    );
    try {
      const received: Buffer[] = [];
      const clientLost = deferred();
      const [transport] = await createUnixConnection(
        () => ({
          connectionMade() {},
          dataReceived: (data: Buffer) => received.push(data),
          connectionLost: () => clientLost.resolve(),
        }),
        path,
      );
      transport.write("payload");
      transport.writeEof();
      await withTimeout(lost.promise, WAIT_MS, "server connectionLost");
      await withTimeout(clientLost.promise, WAIT_MS, "client connectionLost");
      assert.deepEqual(calls, ["connectionMade", "dataReceived", "eofReceived", "connectionLost"]);
      assert.equal(Buffer.concat(received).toString(), "hi");
    } finally {
      await shutDown(server);
    }
  });

  test("connecting to a missing socket path rejects with ENOENT", async () => {
    await assert.rejects(openUnixConnection(join(dir, "missing.sock")), { code: "ENOENT" });
  });
});
