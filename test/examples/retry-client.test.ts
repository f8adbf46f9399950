import assert from "node:assert/strict";
import net from "node:net";
import { after, test } from "node:test";
import { killExamples, spawnExample, withTimeout } from "./example-helpers.js";

after(killExamples);

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForText(read: () => string, pattern: RegExp, what: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (!pattern.test(read())) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    what,
  );
}

test("retry-client retries a refused port until it opens, then prints the reply", async () => {
  const port = await closedPort();
  const client = spawnExample("retry-client", [
    "--port",
    String(port),
    "--message",
    "ping",
    "--retries",
    "50",
    "--base-delay",
    "20",
    "--max-delay",
    "200",
  ]);
  await waitForText(client.stderr, /attempt 2 failed: .*retrying/, "two refused attempts");

  const server = net.createServer((socket) => {
    socket.once("data", (line) => socket.end(`pong to ${line.toString().trim()}\n`));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  try {
    const { code } = await withTimeout(client.exited, "the client to exit");
    assert.equal(code, 0, client.stderr());
    assert.equal(client.stdout(), "pong to ping\n");
    assert.match(client.stderr(), /attempt 1 failed: .*ECONNREFUSED.*retrying in \d+ ms/);
  } finally {
    server.close();
  }
});

test("retry-client gives up after --retries with exit code 1", async () => {
  const port = await closedPort();
  const client = spawnExample("retry-client", [
    "--port",
    String(port),
    "--retries",
    "2",
    "--base-delay",
    "1",
  ]);
  const { code } = await withTimeout(client.exited, "the client to give up");
  assert.equal(code, 1);
  assert.equal(client.stdout(), "");
  assert.match(client.stderr(), /attempt 3 failed: .*giving up\n$/);
  assert.equal(client.stderr().match(/failed/g)?.length, 3);
});

test("retry-client cancelled by SIGINT while backing off exits 130", async () => {
  const port = await closedPort();
  const client = spawnExample("retry-client", [
    "--port",
    String(port),
    "--retries",
    "50",
    "--base-delay",
    "60000",
    "--max-delay",
    "60000",
  ]);
  await waitForText(client.stderr, /attempt 1 failed/, "the first refused attempt");
  client.child.kill("SIGINT");
  const { code, signal } = await withTimeout(client.exited, "the client to stop");
  assert.equal(signal, null);
  assert.equal(code, 130);
  assert.match(client.stderr(), /retry-client: cancelled\n$/);
  assert.equal(client.stdout(), "");
});
