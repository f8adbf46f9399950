import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  assertLineServerStart,
  exchange,
  killAll,
  RawClient,
  type RunningServer,
  startServerCli,
  stopCli,
  waitForStderr,
  withTimeout,
  CALC_WELCOME,
  say,
  sendSignal,
} from "./cli-helpers.js";

const ERROR = "ERROR. Enter only integers separated by commas\n";

/** Seed 002's telnet session with example3, line by line: [typed, reply]. */
const TRANSCRIPT: [string, string][] = [
  ["1,2", "Sum of input numbers: '3'\r\n"],
  ["4,9", "Sum of input numbers: '13'\r\n"],
  ["product", "<switching to product mode>\r\n"],
  ["0,-3", "Product of input numbers: '0'\r\n"],
  ["5,-9,10", "Product of input numbers: '-450'\r\n"],
  ["hello", ERROR],
  ["a,1", ERROR],
  ["quit", "connection closed\r\n"],
];

describe("asyncnet calc-server", () => {
  let server: RunningServer;

  before(async () => {
    server = await startServerCli(["calc-server", "--log-level", "debug"]);
  });

  after(async () => {
    if (server !== undefined) await stopCli(server).catch(() => undefined);
    killAll();
  });

  test("prints the seed's start line and where it listens", () => {
    assertLineServerStart(server);
  });

  test("replays seed 002's telnet transcript byte for byte, then closes", async () => {
    const client = await RawClient.connect(server.port);
    await client.waitFor(CALC_WELCOME);
    for (const [line, reply] of TRANSCRIPT) await say(client, line, reply, "\r\n");
    const all = await client.collect();
    assert.equal(
      all.toString("latin1"),
      CALC_WELCOME + TRANSCRIPT.map(([, reply]) => reply).join(""),
    );
  });

  test("logs the seed's story of a connection at debug level", async () => {
    const client = await RawClient.connect(server.port);
    await client.waitFor(CALC_WELCOME);
    const local = client.localPort;
    await say(client, "1,2", "Sum of input numbers: '3'\r\n", "\r\n");
    await say(client, "sum", "<switching to sum mode>\r\n", "\r\n");
    await say(client, "quit", "connection closed\r\n", "\r\n");
    await client.collect();
    const who = `\\('127\\.0\\.0\\.1', ${local}\\)`;
    await waitForStderr(server, new RegExp(`calc: ${who} quit\n`));
    const story = server
      .stderr()
      .split("\n")
      .filter((line) => line.includes(`, ${local})`));
    assert.deepEqual(story, [
      `calc: Received connection from ('127.0.0.1', ${local})`,
      `calc: ('127.0.0.1', ${local}) --> 1,2`,
      `calc: ('127.0.0.1', ${local}) quit`,
    ]);
  });

  test("keeps a separate mode for each of two interleaved clients", async () => {
    const a = await RawClient.connect(server.port);
    const b = await RawClient.connect(server.port);
    await a.waitFor(CALC_WELCOME);
    await b.waitFor(CALC_WELCOME);
    await say(a, "product", "<switching to product mode>\r\n", "\r\n");
    await say(b, "2,3", "Sum of input numbers: '5'\r\n", "\r\n");
    await say(a, "2,3", "Product of input numbers: '6'\r\n", "\r\n");
    await say(b, "product", "<switching to product mode>\r\n", "\r\n");
    await say(a, "sum", "<switching to sum mode>\r\n", "\r\n");
    await say(b, "4,5", "Product of input numbers: '20'\r\n", "\r\n");
    await say(a, "4,5", "Sum of input numbers: '9'\r\n", "\r\n");
    await say(a, "quit", "connection closed\r\n", "\r\n");
    await say(b, "quit", "connection closed\r\n", "\r\n");
    await Promise.all([a.collect(), b.collect()]);
  });

  test("gives ten concurrent clients correct, separate answers", async () => {
    const sessions = Array.from({ length: 10 }, async (_, i) => {
      const product = i % 2 === 1;
      const lines = [...(product ? ["product"] : []), `${i},${i + 1}`, `${i},-2,1_0`, "quit"];
      const reply = await exchange(server.port, [`${lines.join("\n")}\n`]);
      const op = product ? (a: number, b: number) => a * b : (a: number, b: number) => a + b;
      const label = product ? "Product" : "Sum";
      const expected =
        CALC_WELCOME +
        (product ? "<switching to product mode>\r\n" : "") +
        `${label} of input numbers: '${op(i, i + 1)}'\r\n` +
        `${label} of input numbers: '${op(op(i, -2), 10)}'\r\n` +
        "connection closed\r\n";
      assert.equal(reply.toString("latin1"), expected, `client ${i}`);
    });
    await withTimeout(Promise.all(sessions), "ten clients");
  });

  const edgeCases: [name: string, input: Buffer, reply: string][] = [
    [
      "answers bytes that are not UTF-8 with the error line",
      Buffer.from("1,\xff\n", "latin1"),
      ERROR,
    ],
    [
      "answers a last line without newline at EOF, then closes",
      Buffer.from("40,2"),
      "Sum of input numbers: '42'\r\n",
    ],
    [
      "computes exactly beyond 64-bit integers",
      Buffer.from("18446744073709551615,1\n"),
      "Sum of input numbers: '18446744073709551616'\r\n",
    ],
    [
      "strips the telnet CR and other trailing whitespace",
      Buffer.from("7 , 8 \t\r\n"),
      "Sum of input numbers: '15'\r\n",
    ],
    ["closes cleanly on EOF without quit", Buffer.alloc(0), ""],
  ];
  for (const [name, input, reply] of edgeCases) {
    test(name, async () => {
      const data = await exchange(server.port, input.length === 0 ? [] : [input]);
      assert.equal(data.toString("latin1"), CALC_WELCOME + reply);
    });
  }

  test("answers an over-long line with one error line and keeps the connection", async () => {
    const small = await startServerCli(["calc-server", "--max-line", "16"]);
    try {
      const data = await exchange(small.port, [
        `${"1,".repeat(7)}1\n`, // 15 bytes: answered
        `${"1,".repeat(20)}1\n`, // 41 bytes: over the limit
        "2,2\nquit\n",
      ]);
      assert.equal(
        data.toString("latin1"),
        `${CALC_WELCOME}Sum of input numbers: '8'\r\n` +
          "ERROR. Line too long (more than 16 bytes)\r\n" +
          "Sum of input numbers: '4'\r\nconnection closed\r\n",
      );
    } finally {
      assert.deepEqual(await stopCli(small), { code: 0, signal: null });
    }
  });
});

describe("asyncnet calc-server shutdown", () => {
  after(killAll);

  test("SIGTERM stops it with exit code 0, closing idle connections", async () => {
    const server = await startServerCli(["calc-server"]);
    const idle = await RawClient.connect(server.port);
    await idle.waitFor(CALC_WELCOME);
    const exit = await stopCli(server, "SIGTERM");
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal((await idle.collect()).toString("latin1"), CALC_WELCOME);
    assert.match(server.stderr(), /main: server closed\n$/);
  });

  test("SIGINT (Ctrl-C) stops it with exit code 0", async () => {
    const server = await startServerCli(["calc-server"]);
    assert.deepEqual(await stopCli(server, "SIGINT"), { code: 0, signal: null });
  });

  // 1 MB of one-digit lines, all taken into the server's reader (--max-line 4 MiB
  // keeps it from pausing), answered by 13.5 MB of replies: more than the kernel
  // buffers while the client does not read, so the server stalls on drain().
  const LINES = 500_000;
  const REPLY = "Sum of input numbers: '1'\r\n";
  async function stalledClient(port: number): Promise<RawClient> {
    const client = await RawClient.connect(port);
    client.socket.pause();
    await new Promise<void>((resolve) => client.socket.write("1\n".repeat(LINES), () => resolve()));
    await sleep(1000);
    return client;
  }

  test("the first signal refuses new clients, flushes every reply in full, ends with EOF; exit 0", async (t) => {
    const server = await startServerCli(["calc-server", "--max-line", String(4 << 20)]);
    const client = await stalledClient(server.port);
    let reset: Error | undefined;
    client.socket.on("error", (error) => {
      reset = error;
    });
    sendSignal(server.child, "SIGTERM");
    await waitForStderr(server, /stopping: waiting for 1 connection/);
    await assert.rejects(RawClient.connect(server.port), /ECONNREFUSED/);
    client.socket.resume();
    const data = await client.collect(60_000);
    assert.equal(reset, undefined, "closed with EOF, not reset");
    assert.equal(data.subarray(0, CALC_WELCOME.length).toString("latin1"), CALC_WELCOME);
    const replies = data.subarray(CALC_WELCOME.length);
    const count = replies.length / REPLY.length;
    assert.ok(
      Number.isInteger(count) && count > 0,
      `whole replies only, got ${replies.length} bytes`,
    );
    assert.ok(replies.equals(Buffer.from(REPLY.repeat(count), "latin1")));
    // Every line the server had read was answered. Where the network delivered the
    // whole burst before the signal (the usual case), that is every line sent; the
    // unit tests of serveLines check the rule itself without a network.
    if (count !== LINES) t.diagnostic(`${count} of ${LINES} lines had reached the server`);
    assert.deepEqual(await withTimeout(server.exited, "exit"), { code: 0, signal: null });
  });

  test("a second signal aborts open connections at once: exit code 130", async () => {
    const server = await startServerCli(["calc-server", "--max-line", String(4 << 20)]);
    const client = await stalledClient(server.port);
    sendSignal(server.child, "SIGTERM");
    await waitForStderr(server, /stopping: waiting for 1 connection/);
    await sleep(200);
    assert.equal(server.child.exitCode, null, "still waiting for the stalled connection");
    assert.deepEqual(await stopCli(server, "SIGTERM"), { code: 130, signal: null });
    assert.match(server.stderr(), /main: WARN: aborted: open connections were closed at once\n/);
    client.socket.destroy();
  });
});
