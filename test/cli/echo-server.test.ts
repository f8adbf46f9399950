import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  exchange,
  killAll,
  RawClient,
  type RunningServer,
  spawnCli,
  startServerCli,
  stopCli,
  waitForStderr,
  withTimeout,
} from "./cli-helpers.js";

const MESSAGES = ["This is the message. ", "It will be sent ", "in parts."];
const ALL = MESSAGES.join("");

async function withServer(args: string[], body: (server: RunningServer) => Promise<void>) {
  const server = await startServerCli(["echo-server", ...args]);
  try {
    await body(server);
  } finally {
    assert.deepEqual(await stopCli(server), { code: 0, signal: null });
  }
}

/** Ten clients at once, each with its own bytes; each must get exactly its own back. */
async function tenClients(port: number, expected: (payload: string) => string): Promise<void> {
  const runs = Array.from({ length: 10 }, async (_, i) => {
    const payload = `client ${i}: ${"x".repeat(i * 1000)}`;
    const data = await exchange(port, [payload.slice(0, 5), payload.slice(5)]);
    assert.equal(data.toString("latin1"), expected(payload), `client ${i}`);
  });
  await withTimeout(Promise.all(runs), "ten clients");
}

describe("asyncnet echo-server", () => {
  after(killAll);

  for (const style of ["streams", "protocol"]) {
    test(`${style} style echoes the seed's three writes and closes after EOF`, async () => {
      await withServer(["--style", style], async (server) => {
        const data = await exchange(server.port, MESSAGES);
        assert.equal(data.toString("latin1"), ALL);
      });
    });

    test(`${style} style gives ten concurrent clients their own bytes back`, async () => {
      await withServer(["--style", style], (server) => tenClients(server.port, (p) => p));
    });

    test(`${style} style: SIGTERM ends idle connections with EOF and exits 0`, async () => {
      const server = await startServerCli(["echo-server", "--style", style]);
      const client = await RawClient.connect(server.port);
      client.write("last words");
      await client.waitFor("last words");
      assert.deepEqual(await stopCli(server, "SIGTERM"), { code: 0, signal: null });
      assert.equal((await client.collect()).toString(), "last words");
    });

    test(`${style} style answers each chunk with --prefix`, async () => {
      await withServer(["--style", style, "--prefix", "Got: "], async (server) => {
        const client = await RawClient.connect(server.port);
        client.write("one\n");
        await client.waitFor("Got: one\n");
        client.write("two\n");
        const data = await client.waitFor("Got: one\nGot: two\n");
        assert.equal(data.toString("latin1"), "Got: one\nGot: two\n");
        assert.equal((await client.endAndCollect()).toString("latin1"), "Got: one\nGot: two\n");
      });
    });

    test(`${style} style --fail-on closes only the failing connection and logs the error`, async () => {
      await withServer(["--style", style, "--fail-on", "boom"], async (server) => {
        const bystander = await RawClient.connect(server.port);
        bystander.write("before\n");
        await bystander.waitFor("before\n");
        const victim = await RawClient.connect(server.port);
        victim.write("boom\n");
        await victim.collect();
        await waitForStderr(server, /ERROR: .*Boom! \(received b'boom\\n'\)/);
        assert.match(server.stderr(), /\n {4}at /, "the stack is logged");
        bystander.write("after\n");
        await bystander.waitFor("before\nafter\n");
        assert.equal((await bystander.endAndCollect()).toString("latin1"), "before\nafter\n");
        assert.equal((await exchange(server.port, ["still serving"])).toString(), "still serving");
      });
    });
  }

  test("protocol style answers the client's EOF with its own EOF, as seed 003", async () => {
    await withServer(["--style", "protocol", "--log-level", "debug"], async (server) => {
      const client = await RawClient.connect(server.port);
      client.write("ping");
      await client.waitFor("ping");
      client.socket.end();
      await withTimeout(client.ended, "the server's EOF");
      await client.collect();
      const local = client.localPort;
      const name = `EchoServer_127.0.0.1_${local}`;
      await waitForStderr(server, new RegExp(`${name}: closing\n`));
      const story = server
        .stderr()
        .split("\n")
        .filter((line) => line.startsWith(`${name}:`));
      assert.deepEqual(story, [
        `${name}: connection accepted`,
        `${name}: received b'ping'`,
        `${name}: sent b'ping'`,
        `${name}: received EOF`,
        `${name}: closing`,
      ]);
    });
  });

  test("streams style logs the seed's per-connection story at debug level", async () => {
    await withServer(["--log-level", "debug"], async (server) => {
      const client = await RawClient.connect(server.port);
      client.write("hi 'there'");
      await client.waitFor("hi 'there'");
      await client.endAndCollect();
      const name = `echo_127.0.0.1_${client.localPort}`;
      await waitForStderr(server, new RegExp(`${name}: closing\n`));
      const story = server
        .stderr()
        .split("\n")
        .filter((line) => line.startsWith(`${name}:`));
      assert.deepEqual(story, [
        `${name}: connection accepted`,
        `${name}: received b"hi 'there'"`,
        `${name}: sent b"hi 'there'"`,
        `${name}: closing`,
      ]);
      assert.match(server.stderr(), /^main: starting up on 127\.0\.0\.1 port \d+$/m);
    });
  });

  test("logs nothing per connection at the default level", async () => {
    await withServer([], async (server) => {
      await exchange(server.port, ["quiet"]);
      assert.doesNotMatch(server.stderr(), /echo_/);
    });
  });

  test("--once reads once, answers and closes; defaults to 127.0.0.1", async () => {
    const server = spawnCli(["echo-server", "--once", "--port", "0", "--log-level", "debug"]);
    const port = Number((await waitForStderr(server, /listening on 127\.0\.0\.1:(\d+)\n/))[1]);
    try {
      const client = await RawClient.connect(port);
      client.write("Hello World!");
      const data = await client.collect();
      assert.equal(data.toString(), "Hello World!");
      const local = client.localPort;
      await waitForStderr(server, /Close the client socket\n/);
      assert.match(
        server.stderr(),
        new RegExp(
          `: Received 'Hello World!' from \\('127\\.0\\.0\\.1', ${local}\\)\n.*: Send: 'Hello World!'\n`,
        ),
      );
      const ten = Array.from({ length: 10 }, (_, i) => exchange(port, [`once ${i}`]));
      const replies = await withTimeout(Promise.all(ten), "ten clients");
      for (const [i, reply] of replies.entries()) assert.equal(reply.toString(), `once ${i}`);
    } finally {
      assert.deepEqual(await stopCli(server), { code: 0, signal: null });
    }
  });

  test("--once takes at most 100 bytes", async () => {
    await withServer(["--once"], async (server) => {
      const client = await RawClient.connect(server.port);
      const data = await client.endAndCollect().then(() => client.received());
      assert.equal(data.length, 0, "an empty read sends nothing");
      const long = await RawClient.connect(server.port);
      long.write("y".repeat(150));
      const reply = await long.collect();
      assert.ok(reply.length <= 100 && reply.length > 0, `got ${reply.length} bytes`);
      assert.equal(reply.toString(), "y".repeat(reply.length));
    });
  });

  test("--until buffers until WORD\\n, then sends everything back and closes", async () => {
    await withServer(["--until", "quit"], async (server) => {
      const client = await RawClient.connect(server.port);
      client.write("hello\n");
      client.write("world\n");
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(client.received().length, 0, "nothing before quit");
      client.write("quit\n");
      const data = await client.collect();
      assert.equal(data.toString(), "hello\nworld\nquit\n");
      assert.equal(
        (await exchange(server.port, ["no quit, then EOF"])).toString(),
        "no quit, then EOF",
      );
      await tenClients(server.port, (p) => p);
    });
  });

  test("--until answers a message over --max-line with an error line and closes", async () => {
    await withServer(["--until", "quit", "--max-line", "10"], async (server) => {
      const data = await exchange(server.port, ["0123456789", "abc"]);
      assert.equal(data.toString(), "ERROR. Message too long (more than 10 bytes)\r\n");
    });
  });

  test("listens on IPv6 and names loggers as the seed: echo_::1_PORT", async (t) => {
    const server = spawnCli([
      "echo-server",
      "--host",
      "::1",
      "--port",
      "0",
      "--log-level",
      "debug",
    ]);
    let port: number;
    try {
      port = Number((await waitForStderr(server, /listening on \[::1\]:(\d+)\n|ERROR/))[1]);
    } catch {
      t.skip("no IPv6 loopback here");
      server.child.kill("SIGKILL");
      return;
    }
    try {
      const client = await RawClient.connect(port, "::1");
      client.write("v6");
      await client.endAndCollect();
      await waitForStderr(server, new RegExp(`echo_::1_${client.localPort}: closing\n`));
    } finally {
      await stopCli(server);
    }
  });
});
