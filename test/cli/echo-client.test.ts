import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import {
  killAll,
  type RunningServer,
  runCli,
  spawnCli,
  startServerCli,
  stopCli,
  waitForStderr,
} from "./cli-helpers.js";

const SEED_ECHO = "This is the message. It will be sent in parts.";

/** A raw server that records each connection's bytes and, at EOF, answers with `reply(data)`. */
async function recordingServer(reply: (data: Buffer) => Buffer | string) {
  const received: Buffer[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => {
      const data = Buffer.concat(chunks);
      received.push(data);
      socket.end(reply(data));
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return { port, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe("asyncnet echo-client", () => {
  let streams: RunningServer;
  let protocol: RunningServer;

  before(async () => {
    streams = await startServerCli(["echo-server"]);
    protocol = await startServerCli(["echo-server", "--style", "protocol"]);
  });

  after(async () => {
    for (const server of [streams, protocol]) {
      if (server !== undefined) await stopCli(server).catch(() => undefined);
    }
    killAll();
  });

  for (const style of ["streams", "protocol"]) {
    for (const [serverName, server] of [
      ["streams", () => streams],
      ["protocol", () => protocol],
    ] as const) {
      test(`${style} client prints the seed's echo from a ${serverName} echo-server and exits 0`, async () => {
        const args = ["echo-client", "--style", style, "--host", "127.0.0.1"];
        const result = await runCli([...args, "--port", String(server().port)]);
        assert.equal(result.stderr, "");
        assert.equal(result.stdout.toString(), SEED_ECHO);
        assert.equal(result.code, 0);
      });
    }

    test(`${style} client sends positional messages as separate writes, then EOF`, async () => {
      const recorder = await recordingServer((data) =>
        Buffer.concat([Buffer.from("<"), data, Buffer.from(">")]),
      );
      try {
        const result = await runCli([
          "echo-client",
          "--style",
          style,
          "--host",
          "127.0.0.1",
          "--port",
          String(recorder.port),
          "--",
          "one ",
          "-two ",
          "thr\u00e9e",
        ]);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.toString(), "<one -two thr\u00e9e>");
        assert.equal(recorder.received[0]?.toString(), "one -two thr\u00e9e");
      } finally {
        await recorder.close();
      }
    });

    test(`${style} client logs the seed's story at debug level on stderr`, async () => {
      const port = String(streams.port);
      const result = await runCli([
        "echo-client",
        "--style",
        style,
        "--host",
        "127.0.0.1",
        "--port",
        port,
        "--log-level",
        "debug",
      ]);
      assert.equal(result.code, 0);
      const name = style === "streams" ? "echo_client" : "EchoClient";
      assert.match(
        result.stderr,
        new RegExp(`^${name}: connecting to 127\\.0\\.0\\.1 port ${port}$`, "m"),
      );
      assert.match(result.stderr, new RegExp(`^${name}: sending b'This is the message\\. '$`, "m"));
      assert.match(result.stderr, new RegExp(`^${name}: sending b'in parts\\.'$`, "m"));
      assert.match(result.stderr, new RegExp(`^${name}: received b'`, "m"));
      assert.equal(result.stdout.toString(), SEED_ECHO);
    });

    test(`${style} client copies binary replies to stdout byte for byte`, async () => {
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const recorder = await recordingServer(() => Buffer.concat(Array(1000).fill(bytes)));
      try {
        const result = await runCli([
          "echo-client",
          "--style",
          style,
          "--host",
          "127.0.0.1",
          "--port",
          String(recorder.port),
        ]);
        assert.equal(result.code, 0);
        assert.ok(result.stdout.equals(Buffer.concat(Array(1000).fill(bytes))));
      } finally {
        await recorder.close();
      }
    });
  }

  test("--once prints the official example's output", async () => {
    const once = await startServerCli(["echo-server", "--once"]);
    try {
      const result = await runCli(["echo-client", "--once", "--port", String(once.port)]);
      assert.equal(result.code, 0);
      assert.equal(result.stderr, "");
      assert.equal(
        result.stdout.toString(),
        "Send: 'Hello World!'\nReceived: 'Hello World!'\nClose the socket\n",
      );
      const custom = await runCli(["echo-client", "--once", "--port", String(once.port), "it's"]);
      assert.equal(custom.stdout.toString(), `Send: "it's"\nReceived: "it's"\nClose the socket\n`);
    } finally {
      await stopCli(once);
    }
  });

  test("SIGINT while waiting for the server's EOF exits 130", async () => {
    const silent = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const client = spawnCli([
        "echo-client",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--log-level",
        "debug",
      ]);
      await waitForStderr(client, /waiting for response/);
      assert.deepEqual(await stopCli(client, "SIGINT"), { code: 130, signal: null });
      assert.match(client.stderr(), /^main: WARN: interrupted$/m);
    } finally {
      silent.close();
    }
  });

  test("a refused connection is an error: message on stderr, exit code 1", async () => {
    const recorder = await recordingServer(() => "");
    const port = recorder.port;
    await recorder.close();
    const result = await runCli(["echo-client", "--host", "127.0.0.1", "--port", String(port)]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout.length, 0);
    assert.match(result.stderr, /^main: ERROR: .*ECONNREFUSED/m);
  });
});
