import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type net from "node:net";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  exchange,
  killAll,
  RawClient,
  startServerCli,
  stopCli,
  waitForStderr,
  withTimeout,
  CALC_WELCOME,
  say,
} from "./cli-helpers.js";

const MiB = 1024 * 1024;

describe("--max-line at its edge", () => {
  after(killAll);

  test("line-echo-server answers limit - 1 and limit bytes, refuses limit + 1 and goes on", async () => {
    const server = await startServerCli(["line-echo-server", "--max-line", "16"]);
    try {
      const data = await exchange(server.port, [
        `${"a".repeat(15)}\n`,
        `${"b".repeat(16)}\n`,
        `${"c".repeat(17)}\n`,
        "ok\nquit\n",
      ]);
      assert.equal(
        data.toString("latin1"),
        `Echoed: '${"a".repeat(15)}'\r\n` +
          `Echoed: '${"b".repeat(16)}'\r\n` +
          "ERROR. Line too long (more than 16 bytes)\r\n" +
          "Echoed: 'ok'\r\nconnection closed\r\n",
      );
    } finally {
      assert.deepEqual(await stopCli(server), { code: 0, signal: null });
    }
  });

  test("calc-server: the CR of a telnet line counts, one byte over gets the error line", async () => {
    const server = await startServerCli(["calc-server", "--max-line", "8"]);
    try {
      const client = await RawClient.connect(server.port);
      await client.waitFor(CALC_WELCOME);
      await say(client, "1,2,3,4", "Sum of input numbers: '10'\r\n"); // 7 bytes
      await say(client, "1,2,3,4\r", "Sum of input numbers: '10'\r\n"); // 8 bytes
      await say(client, "1,2,3,4,\r", "ERROR. Line too long (more than 8 bytes)\r\n"); // 9
      await say(client, "5,5\r", "Sum of input numbers: '10'\r\n");
      await say(client, "quit", "connection closed\r\n");
    } finally {
      await stopCli(server);
    }
  });
});

/** Sends one byte every 100 ms until the socket closes. */
function trickle(socket: net.Socket): void {
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write("1");
  }, 100);
  socket.once("close", () => clearInterval(timer));
}

describe("--line-timeout", () => {
  after(killAll);

  test("closes a client sending one byte per 100 ms while a normal client is answered", async () => {
    const server = await startServerCli(["calc-server", "--line-timeout", "1"]);
    try {
      const loris = await RawClient.connect(server.port);
      await loris.waitFor(CALC_WELCOME);
      trickle(loris.socket);
      const normal = await RawClient.connect(server.port);
      await normal.waitFor(CALC_WELCOME);
      for (let i = 0; i < 5; i++) {
        await say(normal, `${i},${i}`, `Sum of input numbers: '${2 * i}'\r\n`);
        await sleep(100);
      }
      const data = await loris.collect();
      assert.equal(
        data.toString("latin1"),
        `${CALC_WELCOME}ERROR. Line not completed within 1 s\r\n`,
        "closed with the error line only",
      );
      await waitForStderr(
        server,
        new RegExp(
          `^calc_127\\.0\\.0\\.1_${loris.localPort}: Connection closed: line not completed within 1 s$`,
          "m",
        ),
      );
      await say(normal, "1,2", "Sum of input numbers: '3'\r\n");
      await say(normal, "quit", "connection closed\r\n");
    } finally {
      assert.deepEqual(await stopCli(server), { code: 0, signal: null });
    }
  });

  test("a slow line that ends in time is answered; silence between lines is not timed", async () => {
    const server = await startServerCli(["line-echo-server", "--line-timeout", "1"]);
    try {
      const client = await RawClient.connect(server.port);
      client.write("sl");
      await sleep(200);
      client.write("ow");
      await sleep(200);
      await say(client, "", "Echoed: 'slow'\r\n");
      await sleep(1600); // silent: the line timeout does not apply
      await say(client, "after", "Echoed: 'after'\r\n");
      await say(client, "quit", "connection closed\r\n");
      await client.collect();
    } finally {
      await stopCli(server);
    }
  });

  for (const [value, closed] of [
    ["0.2", true],
    ["0", false],
  ] as const) {
    test(`--line-timeout ${value} ${closed ? "closes" : "keeps"} a line left unfinished for 0.7 s`, async () => {
      const server = await startServerCli(["line-echo-server", "--line-timeout", value]);
      try {
        const client = await RawClient.connect(server.port);
        client.write("ab");
        await sleep(700);
        if (closed) {
          assert.equal(
            (await client.collect()).toString("latin1"),
            "ERROR. Line not completed within 0.2 s\r\n",
          );
        } else {
          await say(client, "c", "Echoed: 'abc'\r\n");
          await say(client, "quit", "connection closed\r\n");
        }
      } finally {
        await stopCli(server);
      }
    });
  }
});

/** The resident set of process `pid`, in bytes (Linux /proc). */
function rss(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  assert.ok(match !== null, "VmRSS in /proc/PID/status");
  return Number(match[1]) * 1024;
}

/**
 * Waits until the server stopped taking what `socket` sends: its send queue is
 * empty or has not shrunk for 10 looks 100 ms apart. Bounded by 30 s.
 */
async function untilStalled(socket: net.Socket): Promise<void> {
  await withTimeout(
    (async () => {
      let last = -1;
      let same = 0;
      while (socket.writableLength > 0 && same < 10) {
        await sleep(100);
        same = socket.writableLength === last ? same + 1 : 0;
        last = socket.writableLength;
      }
    })(),
    "the flood to stall",
    30_000,
  );
}

describe("backpressure end to end", { skip: process.platform !== "linux" }, () => {
  after(killAll);

  test("a client that floods 64 MiB without reading does not grow the server's memory", async (t) => {
    const server = await startServerCli(["calc-server"]);
    const pid = server.child.pid as number;
    try {
      // Warm up: one whole exchange before the baseline.
      const warm = await exchange(server.port, ["1,2\nquit\n"]);
      assert.match(warm.toString("latin1"), /connection closed/);
      const before = rss(pid);
      const flood = await RawClient.connect(server.port);
      flood.socket.pause(); // never reads: the replies pile up on the server's side
      const chunk = Buffer.from("1,2\n".repeat(MiB / 4), "latin1");
      for (let i = 0; i < 64; i++) flood.socket.write(chunk);
      await untilStalled(flood.socket);
      const grown = rss(pid) - before;
      const taken = 64 * MiB - flood.socket.writableLength;
      t.diagnostic(
        `server took ${(taken / MiB).toFixed(1)} MiB; RSS grew ${(grown / MiB).toFixed(1)} MiB`,
      );
      assert.ok(
        flood.socket.writableLength > 0,
        "the server stopped reading before it took all 64 MiB",
      );
      assert.ok(grown < 64 * MiB, `server RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
      // Meanwhile the server answers everyone else.
      const other = await exchange(server.port, ["40,2\nquit\n"]);
      assert.equal(
        other.toString("latin1"),
        `${CALC_WELCOME}Sum of input numbers: '42'\r\nconnection closed\r\n`,
      );
      flood.socket.destroy();
    } finally {
      assert.deepEqual(await stopCli(server), { code: 0, signal: null });
    }
  });
});
