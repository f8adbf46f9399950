import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import { UsageError } from "../../src/cli/command.js";
import { defaultMaxConnections, parseServerLimits } from "../../src/cli/server-limits.js";
import {
  killAll,
  RawClient,
  startServerCli,
  stopCli,
  waitForStderr,
  withTimeout,
  CALC_WELCOME,
  say,
  sendSignal,
} from "./cli-helpers.js";

describe("parseServerLimits", () => {
  test("defaults: 300 s idle timeout, 10 s grace, connections below the open-file limit", () => {
    assert.deepEqual(parseServerLimits({}), {
      idleTimeout: 300_000,
      maxConnections: defaultMaxConnections(),
      maxSessions: undefined,
      maxConnectionsPerPeer: undefined,
      grace: 10_000,
    });
  });

  test("takes seconds with fractions and counts, 0 seconds disables", () => {
    assert.deepEqual(
      parseServerLimits({
        "idle-timeout": "0.5",
        "max-connections": "100",
        "max-sessions": "1",
        "max-per-peer": "10",
        grace: "0",
      }),
      {
        idleTimeout: 500,
        maxConnections: 100,
        maxSessions: 1,
        maxConnectionsPerPeer: 10,
        grace: 0,
      },
    );
    assert.equal(parseServerLimits({ "idle-timeout": ".25" }).idleTimeout, 250);
    assert.equal(parseServerLimits({ "idle-timeout": "0.0001" }).idleTimeout, 1);
    assert.equal(parseServerLimits({ "idle-timeout": "0.0" }).idleTimeout, 0);
  });

  const bad: [flag: string, value: string, message: RegExp][] = [
    ["idle-timeout", "-1", /^Invalid --idle-timeout: expected seconds in 0\.\.2147483, got '-1'$/],
    ["idle-timeout", "abc", /^Invalid --idle-timeout: .*got 'abc'$/],
    ["idle-timeout", "1e3", /^Invalid --idle-timeout: .*got '1e3'$/],
    ["idle-timeout", "", /^Invalid --idle-timeout: .*got ''$/],
    ["idle-timeout", "2147484", /^Invalid --idle-timeout: .*got '2147484'$/],
    ["grace", "-0.5", /^Invalid --grace: .*got '-0\.5'$/],
    [
      "max-connections",
      "0",
      /^Invalid --max-connections: expected an integer in 1\.\.\d+, got '0'$/,
    ],
    ["max-connections", "-3", /^Invalid --max-connections: .*got '-3'$/],
    ["max-sessions", "many", /^Invalid --max-sessions: .*got 'many'$/],
    ["max-per-peer", "1.5", /^Invalid --max-per-peer: .*got '1\.5'$/],
  ];
  for (const [flag, value, message] of bad) {
    test(`refuses --${flag} ${JSON.stringify(value)} with a UsageError`, () => {
      assert.throws(
        () => parseServerLimits({ [flag]: value }),
        (error) => error instanceof UsageError && message.test(error.message),
      );
    });
  }
});

/** Connects from `localAddress` (another loopback address is another peer). */
async function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  const socket = net.connect({ port, host: "127.0.0.1", localAddress });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    }),
    `connect from ${localAddress}`,
  );
  return socket;
}

/** What `socket` receives until it closes. */
function untilClosed(socket: net.Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => undefined);
  const closed = new Promise<string>((resolve) =>
    socket.once("close", () => resolve(Buffer.concat(chunks).toString("latin1"))),
  );
  return withTimeout(closed, "the server to close the connection");
}

describe("connection limits of the CLI servers", () => {
  after(killAll);

  test("--max-sessions 1 serves one client at a time, the next waiting its turn", async () => {
    const server = await startServerCli(["calc-server", "--max-sessions", "1"]);
    try {
      const first = await RawClient.connect(server.port);
      await first.waitFor(CALC_WELCOME);
      const second = await RawClient.connect(server.port);
      second.write("1,2\n");
      // The first is served while the second waits, unread and unanswered.
      for (let i = 0; i < 3; i++)
        await say(first, `${i},1`, `Sum of input numbers: '${i + 1}'\r\n`);
      assert.equal(second.received().length, 0, "the second client waits its turn");
      await say(first, "quit", "connection closed\r\n");
      await first.collect();
      await second.waitFor(`${CALC_WELCOME}Sum of input numbers: '3'\r\n`);
      await say(second, "quit", "connection closed\r\n");
      await second.collect();
    } finally {
      assert.deepEqual(await stopCli(server), { code: 0, signal: null });
    }
  });

  test("--max-per-peer 1 refuses a second connection from one address, not from another", async (t) => {
    const server = await startServerCli(["calc-server", "--max-per-peer", "1"]);
    try {
      const first = await RawClient.connect(server.port);
      await first.waitFor(CALC_WELCOME);
      const second = await RawClient.connect(server.port);
      assert.equal((await second.collect()).length, 0, "closed at once, unserved");
      await waitForStderr(
        server,
        /^main: WARN: refused 1 connection\(s\): 1 over --max-per-peer 1 \(last from 127\.0\.0\.1\)$/m,
      );
      let other: net.Socket | undefined;
      try {
        other = await connectFrom(server.port, "127.0.0.2");
      } catch (error) {
        t.diagnostic(`no second loopback address here: ${(error as Error).message}`);
      }
      if (other !== undefined) {
        const text = untilClosed(other);
        other.end("quit\n");
        assert.equal(await text, `${CALC_WELCOME}connection closed\r\n`);
      }
      await say(first, "quit", "connection closed\r\n");
    } finally {
      await stopCli(server);
    }
  });
});

describe("graceful stop with --grace", () => {
  after(killAll);

  test("closes idle connections at once, aborts a stalled one after the grace period, exits 0", async () => {
    const server = await startServerCli(["calc-server", "--grace", "0.5"]);
    try {
      const idle = await RawClient.connect(server.port);
      await idle.waitFor(CALC_WELCOME);
      const stalled = await RawClient.connect(server.port);
      stalled.socket.pause(); // never reads, so its replies can never all be sent
      stalled.socket.on("error", () => undefined);
      const lines = Buffer.from("1\n".repeat(4 << 20), "latin1"); // 8 MB in, 108 MB out
      stalled.socket.write(lines);
      await say(idle, "1,1", "Sum of input numbers: '2'\r\n");
      sendSignal(server.child, "SIGTERM");
      assert.equal(
        (await idle.collect()).toString("latin1"),
        `${CALC_WELCOME}Sum of input numbers: '2'\r\n`,
      );
      const exit = await withTimeout(server.exited, "exit after the grace period");
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.match(server.stderr(), /stopping: waiting for [12] connection\(s\) to finish\n/);
      assert.match(
        server.stderr(),
        /WARN: grace period of 0\.5 s over: aborted 1 connection\(s\)\n/,
      );
      assert.match(server.stderr(), /main: server closed\n$/);
      stalled.socket.destroy();
    } finally {
      server.child.kill("SIGKILL");
    }
  });
});
