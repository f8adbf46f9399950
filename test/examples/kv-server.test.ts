import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import {
  Client,
  type ExampleServer,
  killExamples,
  startExample,
  stopExample,
  withTimeout,
} from "./example-helpers.js";

const run = promisify(execFile);
let server: ExampleServer;

before(async () => {
  server = await startExample("kv-server");
});
after(async () => {
  await stopExample(server);
  killExamples();
});

async function redisCli(...args: string[]): Promise<string> {
  const { stdout } = await withTimeout(
    run("redis-cli", ["-h", "127.0.0.1", "-p", String(server.port), ...args]),
    `redis-cli ${args.join(" ")}`,
  );
  return stdout;
}

async function hasRedisCli(): Promise<boolean> {
  try {
    await run("redis-cli", ["--version"]);
    return true;
  } catch {
    return false;
  }
}

test("kv-server answers redis-cli: SET, GET, INCR, DEL, PING", async (t) => {
  if (!(await hasRedisCli())) {
    t.skip("redis-cli is not installed (apt-get install -y redis-tools)");
    return;
  }
  assert.equal(await redisCli("SET", "k", "v"), "OK\n");
  assert.equal(await redisCli("GET", "k"), "v\n");
  assert.equal(await redisCli("INCR", "n"), "1\n");
  assert.equal(await redisCli("INCR", "n"), "2\n");
  assert.equal(await redisCli("DEL", "k", "missing"), "1\n");
  assert.equal(await redisCli("GET", "k"), "\n");
  assert.equal(await redisCli("PING"), "PONG\n");
  assert.equal(await redisCli("SET", "n", "x"), "OK\n");
  assert.match(await redisCli("INCR", "n"), /^ERR value is not an integer or out of range\n/);
});

const PIPELINE = Buffer.from(
  "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n" +
    "SET n 41\r\n" +
    "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" +
    "*1\r\n$4\r\nPING\r\n" +
    "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n" +
    "*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n" +
    "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
);
const REPLIES = "+OK\r\n+OK\r\n$1\r\nv\r\n+PONG\r\n:42\r\n:1\r\n$-1\r\n";

test("kv-server answers a raw RESP pipeline split at every offset", async () => {
  for (let at = 0; at <= PIPELINE.length; at++) {
    const client = new Client(server.port);
    await client.connected;
    client.socket.setNoDelay(true);
    client.send(PIPELINE.subarray(0, at));
    // Give the first piece its own read on the server, so the split is exercised on the wire too.
    await new Promise((resolve) => setTimeout(resolve, 2));
    client.send(PIPELINE.subarray(at));
    await client.until((text) => text.length >= REPLIES.length, `replies, split at ${at}`);
    assert.equal(client.text(), REPLIES, `split at ${at}`);
    client.socket.destroy();
  }
});

test("kv-server answers a protocol error and closes, as Redis does", async () => {
  const client = new Client(server.port);
  await client.connected;
  client.send("PING\r\n*1\r\n:1\r\nPING\r\n");
  await withTimeout(client.closed, "the close");
  assert.equal(client.text(), "+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n");
});
