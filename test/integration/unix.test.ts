import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createUnixConnection } from "../../src/protocols/create-connection.js";
import { Server } from "../../src/protocols/server.js";
import { MAX_UNIX_PATH_BYTES } from "../../src/protocols/unix-socket.js";
import { createUnixServer } from "../../src/protocols/create-server.js";
import type { Transport } from "../../src/protocols/transport.js";
import { openUnixConnection } from "../../src/streams/open-connection.js";
import { startUnixServer } from "../../src/streams/start-server.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { makeTempDir, WAIT_MS } from "../helpers/net.js";
import { deferred, echoHandler, readToEof, shutDown } from "../helpers/servers.js";
import { withTimeout } from "../helpers/with-timeout.js";

const NO_PROTOCOL = () => ({ connectionMade() {}, dataReceived() {}, connectionLost() {} });

/**
 * Asserts that `attempt` rejects as `expected`. A server or connection it made
 * anyway is closed first, so that a regression fails the test instead of
 * keeping the run alive.
 */
async function refused(attempt: Promise<unknown>, expected: object): Promise<void> {
  const outcome = await attempt.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if ("value" in outcome) {
    const value = outcome.value;
    if (value instanceof Server) await shutDown(value);
    else if (Array.isArray(value)) (value[0] as Transport).abort();
    else (value as { writer: StreamWriter }).writer.close();
    assert.fail("expected a rejection, got a listening server or an open connection");
  }
  assert.throws(() => {
    throw outcome.error;
  }, expected);
}

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

  test("close() leaves a file made at the path after the server started", async () => {
    const path = join(dir, "replaced-by-file.sock");
    const server = await startUnixServer(echoHandler, path);
    unlinkSync(path);
    writeFileSync(path, "not a socket");
    server.close();
    assert.equal(readFileSync(path, "utf8"), "not a socket");
    await shutDown(server);
    unlinkSync(path);
  });

  test("close() leaves another server's live socket at the same path", async () => {
    const path = join(dir, "taken-over.sock");
    const first = await startUnixServer(echoHandler, path);
    // A second server replaces the first one's file (as a stale one would be).
    const second = await startUnixServer(echoHandler, path);
    try {
      await shutDown(first);
      assert.ok(existsSync(path), "the second server's socket file is still there");
      const { reader, writer } = await openUnixConnection(path);
      writer.write("still served");
      writer.writeEof();
      assert.equal((await readToEof(reader)).toString(), "still served");
      writer.close();
    } finally {
      await shutDown(second);
    }
    assert.equal(existsSync(path), false, "the second server removes its own file");
  });

  test("listening leaves no other file in the directory than the socket", async () => {
    const sub = join(dir, "only-one");
    mkdirSync(sub);
    const server = await startUnixServer(echoHandler, join(sub, "s.sock"));
    try {
      assert.deepEqual(readdirSync(sub), ["s.sock"]);
    } finally {
      await shutDown(server);
    }
    assert.deepEqual(readdirSync(sub), []);
  });

  test("a regular file at the path makes listen fail with EADDRINUSE and is kept", async () => {
    const path = join(dir, "regular-file");
    writeFileSync(path, "keep me");
    await refused(startUnixServer(echoHandler, path), { code: "EADDRINUSE" });
    assert.equal(readFileSync(path, "utf8"), "keep me");
    unlinkSync(path);
  });

  test("a missing directory is reported as ENOENT, naming the directory", async () => {
    const missing = join(dir, "no-such-dir");
    const path = join(missing, "s.sock");
    await refused(startUnixServer(echoHandler, path), {
      code: "ENOENT",
      message: `Cannot listen on Unix socket ${path}: directory ${missing} does not exist`,
    });
    await refused(createUnixServer(NO_PROTOCOL, path), { code: "ENOENT" });
  });

  describe("a path longer than the platform allows", () => {
    /** A path in `dir` of exactly `bytes` bytes of UTF-8, made longer with two-byte characters. */
    const pathOf = (bytes: number): string => {
      const prefix = join(dir, "l-");
      const room = bytes - Buffer.byteLength(prefix);
      const name = "é".repeat(Math.floor(room / 2)) + "x".repeat(room % 2);
      const path = prefix + name;
      assert.equal(Buffer.byteLength(path), bytes);
      return path;
    };
    const error = (path: string) => ({
      name: "RangeError",
      message: `Invalid Unix socket path: ${Buffer.byteLength(path)} bytes is longer than the ${MAX_UNIX_PATH_BYTES} this platform allows: ${path}`,
    });

    test("is a RangeError for a server, and nothing is left in the directory", async () => {
      const before = readdirSync(dir);
      const path = pathOf(MAX_UNIX_PATH_BYTES + 1);
      // Fewer characters than the limit: only the UTF-8 length tells it is too long.
      assert.ok(path.length <= MAX_UNIX_PATH_BYTES);
      await refused(startUnixServer(echoHandler, path), error(path));
      await refused(createUnixServer(NO_PROTOCOL, path), error(path));
      assert.deepEqual(readdirSync(dir), before);
    });

    test("is a RangeError for a client", async () => {
      const path = pathOf(MAX_UNIX_PATH_BYTES + 1);
      await refused(openUnixConnection(path), error(path));
      await refused(createUnixConnection(NO_PROTOCOL, path), error(path));
    });

    test("a path of exactly the limit is served and removed", async () => {
      const path = pathOf(MAX_UNIX_PATH_BYTES);
      const server = await startUnixServer(echoHandler, path);
      try {
        assert.ok(existsSync(path));
        const { reader, writer } = await openUnixConnection(path);
        writer.write("at the limit");
        writer.writeEof();
        assert.equal((await readToEof(reader)).toString(), "at the limit");
        writer.close();
      } finally {
        await shutDown(server);
      }
      assert.equal(existsSync(path), false);
    });
  });
});
