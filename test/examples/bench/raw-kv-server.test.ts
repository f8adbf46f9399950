import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import net from "node:net";
import { after, before, test } from "node:test";
import {
  Client,
  type ExampleServer,
  killExamples,
  startExample,
  stopExample,
  withTimeout,
} from "../example-helpers.js";

let kv: ExampleServer;
let raw: ExampleServer;

before(async () => {
  [kv, raw] = await Promise.all([startExample("kv-server"), startExample("bench/raw-kv-server")]);
});
after(async () => {
  await Promise.all([stopExample(kv), stopExample(raw)]);
  killExamples();
});

// Pipelined RESP arrays and inline commands, errors that keep the connection, and a
// protocol error that ends it (so each transcript ends in a close on both servers).
const TRANSCRIPT = Buffer.from(
  "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\nv\r\nv\r\n" +
    "SET n 41\r\n" +
    "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" +
    "*1\r\n$4\r\nPING\r\n" +
    "*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n" +
    "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n" +
    "*3\r\n$3\r\nDEL\r\n$1\r\nk\r\n$1\r\nz\r\n" +
    "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" +
    // Each connection sees a missing k2 (the servers' state outlives a connection).
    "SET k2 x\r\nDEL k2\r\nINCR k2\r\nGET k2\r\n" +
    "SET s x\r\nINCR s\r\n" +
    "*1\r\n$3\r\nGET\r\n" +
    "*4\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n" +
    "*0\r\n\r\n" +
    "PING\r\n" +
    "*1\r\n:1\r\n" +
    "PING\r\n",
);
const EXPECTED =
  "+OK\r\n+OK\r\n$4\r\nv\r\nv\r\n+PONG\r\n$2\r\nhi\r\n:42\r\n:1\r\n$-1\r\n+OK\r\n:1\r\n:1\r\n$1\r\n1\r\n+OK\r\n" +
  "-ERR value is not an integer or out of range\r\n" +
  "-ERR wrong number of arguments for 'get' command\r\n" +
  "-ERR syntax error\r\n" +
  "+PONG\r\n" +
  "-ERR Protocol error: expected '$', got ':'\r\n";

/** Sends `pieces` (each given its own read on the server) and returns every byte until the close. */
async function exchange(port: number, pieces: readonly Buffer[]): Promise<string> {
  const client = new Client(port);
  await client.connected;
  client.socket.setNoDelay(true);
  for (const piece of pieces) {
    client.send(piece);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await withTimeout(
    client.closed,
    `the close after ${pieces.map((p) => p.length).join("+")} bytes`,
  );
  return client.bytes().toString("latin1");
}

test("raw-kv-server answers a pipelined transcript byte for byte as kv-server", async () => {
  const [a, b] = await Promise.all([
    exchange(kv.port, [TRANSCRIPT]),
    exchange(raw.port, [TRANSCRIPT]),
  ]);
  assert.equal(a, EXPECTED);
  assert.equal(b, a);
});

test("raw-kv-server and kv-server agree on the transcript split at every offset", async () => {
  for (let at = 0; at <= TRANSCRIPT.length; at++) {
    const pieces = [TRANSCRIPT.subarray(0, at), TRANSCRIPT.subarray(at)];
    const [a, b] = await Promise.all([exchange(kv.port, pieces), exchange(raw.port, pieces)]);
    assert.equal(b, a, `split at ${at}`);
    assert.equal(a, EXPECTED, `split at ${at}`);
  }
});

test("raw-kv-server and kv-server agree on the transcript fed a byte at a time", async () => {
  const pieces = [...TRANSCRIPT].map((byte) => Buffer.of(byte));
  const [a, b] = await Promise.all([exchange(kv.port, pieces), exchange(raw.port, pieces)]);
  assert.equal(a, EXPECTED);
  assert.equal(b, a);
});

test("raw-kv-server and kv-server both answer QUIT with +OK and close, ignoring what follows", async () => {
  const quit = [Buffer.from("PING\r\nQUIT\r\nPING\r\n")];
  const [a, b] = await Promise.all([exchange(kv.port, quit), exchange(raw.port, quit)]);
  assert.equal(a, "+PONG\r\n+OK\r\n");
  assert.equal(b, a);
});

test("raw-kv-server and kv-server refuse a line past the 64 KiB limit alike", async () => {
  const long = [Buffer.from("PING\r\n"), Buffer.alloc(64 * 1024 + 2, "x")];
  const [a, b] = await Promise.all([exchange(kv.port, long), exchange(raw.port, long)]);
  assert.equal(a, "+PONG\r\n-ERR Protocol error: too big inline request\r\n");
  assert.equal(b, a);
});

test("redis-server answers the transcript as the two do (skipped without redis-server)", async (t) => {
  if (spawnSync("redis-server", ["--version"]).status !== 0) {
    t.skip("redis-server is not installed (apt-get install -y redis-server)");
    return;
  }
  const port = await new Promise<number>((resolve, reject) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port: free } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(free));
    });
    probe.once("error", reject);
  });
  const redis = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  try {
    const ready = async () => {
      // Bounded in tries too, so a redis-server that never listens stops the polling.
      for (let tries = 0; tries < 400; tries++) {
        const up = await new Promise<boolean>((resolve) => {
          const s = net.connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
          s.once("error", () => resolve(false));
        });
        if (up) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error("redis-server did not listen");
    };
    await withTimeout(ready(), "redis-server to listen");
    assert.equal(await exchange(port, [TRANSCRIPT]), EXPECTED);
  } finally {
    redis.kill("SIGKILL");
  }
});
