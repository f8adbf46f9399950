import assert from "node:assert/strict";
import { after, test } from "node:test";
import {
  Client,
  type ExampleServer,
  killExamples,
  startExample,
  stopExample,
} from "./example-helpers.js";

after(killExamples);

async function join(server: ExampleServer): Promise<{ client: Client; name: string }> {
  const client = new Client(server.port);
  await client.connected;
  const name = `127.0.0.1:${client.socket.localPort}`;
  await client.until((text) => text.includes(`* welcome ${name},`), "the welcome");
  return { client, name };
}

/** The chat lines (not `*` notices) received, in order. */
function messages(client: Client): string[] {
  return client
    .text()
    .split("\n")
    .filter((line) => line.startsWith("["));
}

test("chat-server broadcasts each line to every other client, in order", async () => {
  const server = await startExample("chat-server");
  try {
    const a = await join(server);
    const b = await join(server);
    const c = await join(server);
    a.client.send("a1\na2\n");
    await b.client.until((text) => text.includes("a2\n"), "a2 at b");
    await c.client.until((text) => text.includes("a2\n"), "a2 at c");
    b.client.send("b1\r\n");
    await a.client.until((text) => text.includes("b1\n"), "b1 at a");
    await c.client.until((text) => text.includes("b1\n"), "b1 at c");
    c.client.send("c1\n");
    await a.client.until((text) => text.includes("c1\n"), "c1 at a");
    await b.client.until((text) => text.includes("c1\n"), "c1 at b");

    assert.deepEqual(messages(a.client), [`[${b.name}] b1`, `[${c.name}] c1`]);
    assert.deepEqual(messages(b.client), [`[${a.name}] a1`, `[${a.name}] a2`, `[${c.name}] c1`]);
    assert.deepEqual(messages(c.client), [`[${a.name}] a1`, `[${a.name}] a2`, `[${b.name}] b1`]);
    assert.match(a.client.text(), new RegExp(`\\* ${b.name.replaceAll(".", "\\.")} joined\n`));
    for (const { client } of [a, b, c]) client.socket.destroy();
  } finally {
    await stopExample(server);
  }
});

test("chat-server drops a client that does not read, with a notice, and the others go on", async () => {
  const server = await startExample("chat-server", ["--max-backlog", "65536"]);
  try {
    const a = await join(server);
    const b = await join(server);
    const c = await join(server);
    const slow = await join(server);
    slow.client.socket.pause();

    // Paced by the readers, so only the client that does not read falls behind.
    const filler = "x".repeat(4000);
    const dropped = `* ${slow.name} dropped (not reading)\n`;
    let bAt = 0;
    let cAt = 0;
    let gone = false;
    for (let batch = 0; batch < 2000 && !gone; batch++) {
      a.client.send(`${filler}\n`.repeat(15) + `end-${batch}\n`);
      bAt = await b.client.untilIncludes(`end-${batch}\n`, `batch ${batch} at b`, bAt);
      cAt = await c.client.untilIncludes(`end-${batch}\n`, `batch ${batch} at c`, cAt);
      gone = b.client.text().includes(dropped, Math.max(0, bAt - 70_000));
    }
    assert.ok(gone, "the slow client was dropped within 2000 batches (128 MB)");
    assert.ok(c.client.text().includes(dropped), "c was told too");

    a.client.send("after\n");
    await b.client.until((text) => text.endsWith(`[${a.name}] after\n`), "after at b");
    await c.client.until((text) => text.endsWith(`[${a.name}] after\n`), "after at c");

    slow.client.socket.resume();
    await slow.client.untilIncludes("* you are not reading: disconnected\n", "the notice");
    await slow.client.closed;
    const text = slow.client.text();
    assert.ok(text.endsWith("* you are not reading: disconnected\n"), "the notice comes last");
    assert.ok(!text.includes("after\n"), "nothing is sent after the drop");
    for (const { client } of [a, b, c]) client.socket.destroy();
  } finally {
    await stopExample(server);
  }
});
