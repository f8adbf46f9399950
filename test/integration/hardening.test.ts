import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Server } from "../../src/protocols/server.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { startServer } from "../../src/streams/start-server.js";
import {
  killAll,
  RawClient,
  type RunningServer,
  startServerCli,
  stopCli,
  waitForStderr,
  withTimeout,
  CALC_WELCOME,
  say,
} from "../cli/cli-helpers.js";
import { rawConnect } from "../helpers/net.js";
import { echoHandler, serverPort, shutDown } from "../helpers/servers.js";
import { selfSignedCert } from "../helpers/tls-cert.js";

describe("hardening: TLS handshake timeout", () => {
  const { key, cert } = selfSignedCert();
  let server: Server;
  let port: number;
  const errors: Error[] = [];
  before(async () => {
    server = await startServer(echoHandler, "127.0.0.1", 0, {
      tls: { key, cert, handshakeTimeout: 300 },
      onError: (error) => errors.push(error),
    });
    port = serverPort(server);
  });
  after(async () => {
    await shutDown(server);
  });

  test("serves a TLS client while a TCP client sits silent in its handshake", async () => {
    const silent = await rawConnect(port);
    const { reader, writer } = await openConnection("127.0.0.1", port, { tls: { ca: cert } });
    writer.write("over tls");
    assert.equal((await withTimeout(reader.read(100), "the TLS echo")).toString(), "over tls");
    writer.close();
    await withTimeout(writer.waitClosed(), "the TLS client to close");
    silent.destroy();
    assert.deepEqual(errors, []);
  });

  test("drops a TCP client that never starts the handshake, after handshakeTimeout", async () => {
    const silent = await rawConnect(port, "127.0.0.1", { allowHalfOpen: false });
    const closed = new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      silent.on("data", (chunk: Buffer) => chunks.push(chunk));
      silent.on("error", () => undefined);
      silent.once("close", () => resolve(Buffer.concat(chunks)));
    });
    try {
      // Ten times the handshake timeout.
      const data = await withTimeout(closed, "the server to drop the silent client", 3000);
      assert.equal(data.length, 0, "nothing sent to a client that never said hello");
    } finally {
      silent.destroy();
    }
    const { reader, writer } = await openConnection("127.0.0.1", port, { tls: { ca: cert } });
    writer.write("after the drop");
    assert.equal(
      (await withTimeout(reader.read(100), "the TLS echo")).toString(),
      "after the drop",
    );
    writer.close();
  });
});

describe("hardening: --idle-timeout", () => {
  after(killAll);

  test("calc-server closes a silent connection and logs it at info with the peer", async () => {
    const server = await startServerCli(["calc-server", "--idle-timeout", "0.5"]);
    try {
      const idle = await RawClient.connect(server.port);
      const data = await idle.collect();
      assert.equal(data.toString("latin1"), CALC_WELCOME);
      await waitForStderr(
        server,
        new RegExp(
          `^calc_127\\.0\\.0\\.1_${idle.localPort}: Connection closed: idle timeout$`,
          "m",
        ),
      );
    } finally {
      assert.deepEqual(await stopCli(server), { code: 0, signal: null });
    }
  });

  test("a client that talks more often than the timeout keeps its connection", async () => {
    const server = await startServerCli(["calc-server", "--idle-timeout", "0.5"]);
    try {
      const client = await RawClient.connect(server.port);
      await client.waitFor(CALC_WELCOME);
      // 15 exchanges 100 ms apart: three times the timeout in all, never 0.5 s silent.
      for (let i = 0; i < 15; i++) {
        await say(client, `${i},1`, `Sum of input numbers: '${i + 1}'\r\n`);
        await sleep(100);
      }
      await say(client, "quit", "connection closed\r\n");
      await client.collect();
      assert.doesNotMatch(server.stderr(), /idle timeout/);
    } finally {
      await stopCli(server);
    }
  });

  test("--idle-timeout 0 never closes a silent connection", async () => {
    const server = await startServerCli(["line-echo-server", "--idle-timeout", "0"]);
    try {
      const client = await RawClient.connect(server.port);
      await sleep(700);
      await say(client, "still", "Echoed: 'still'\r\n");
      await say(client, "quit", "connection closed\r\n");
    } finally {
      await stopCli(server);
    }
  });

  for (const [style, logger] of [
    ["streams", "echo"],
    ["protocol", "EchoServer"],
  ] as const) {
    test(`echo-server --style ${style} closes a silent connection and logs it at info`, async () => {
      const server = await startServerCli([
        "echo-server",
        "--style",
        style,
        "--idle-timeout",
        "0.3",
      ]);
      try {
        const client = await RawClient.connect(server.port);
        client.write("ping");
        await client.waitFor("ping");
        assert.equal((await client.collect()).toString(), "ping");
        await waitForStderr(
          server,
          new RegExp(
            `^${logger}_127\\.0\\.0\\.1_${client.localPort}: Connection closed: idle timeout$`,
            "m",
          ),
        );
      } finally {
        assert.deepEqual(await stopCli(server), { code: 0, signal: null });
      }
    });
  }
});

/** Connects until the server serves the connection (it may still count a closed one). */
async function connectServed(port: number): Promise<RawClient> {
  return withTimeout(
    (async () => {
      for (;;) {
        const client = await RawClient.connect(port);
        try {
          await client.waitFor(CALC_WELCOME, 2000);
          return client;
        } catch {
          client.socket.destroy();
          await sleep(50);
        }
      }
    })(),
    "a connection to be served",
  );
}

/** The refusals counted in the server's warn lines so far. */
function refusedCount(server: RunningServer): number {
  let total = 0;
  for (const match of server.stderr().matchAll(/WARN: refused (\d+) connection\(s\)/g)) {
    total += Number(match[1]);
  }
  return total;
}

describe("hardening: --max-connections", () => {
  after(killAll);

  test("closes the connection over the limit at once, serves the ones within it, logs at warn", async () => {
    const server = await startServerCli(["calc-server", "--max-connections", "2"]);
    try {
      const a = await RawClient.connect(server.port);
      const b = await RawClient.connect(server.port);
      await a.waitFor(CALC_WELCOME);
      await b.waitFor(CALC_WELCOME);
      const c = await RawClient.connect(server.port);
      assert.equal((await c.collect()).length, 0, "the third connection is closed unserved");
      await waitForStderr(
        server,
        /^main: WARN: refused 1 connection\(s\): 1 over --max-connections 2 \(last from 127\.0\.0\.1\)$/m,
      );
      // The two within the limit are still served.
      await say(a, "1,2", "Sum of input numbers: '3'\r\n");
      await say(b, "2,2", "Sum of input numbers: '4'\r\n");
      // Once one of them leaves, a new connection is served again.
      await say(a, "quit", "connection closed\r\n");
      await a.collect();
      const d = await connectServed(server.port);
      await say(d, "3,3", "Sum of input numbers: '6'\r\n");
      d.socket.destroy();
      b.socket.destroy();
    } finally {
      assert.deepEqual(await stopCli(server), { code: 0, signal: null });
    }
  });

  test("counts every refusal of a burst in the warn lines, at most one line a second", async () => {
    const server = await startServerCli(["line-echo-server", "--max-connections", "1"]);
    try {
      const held = await RawClient.connect(server.port);
      await say(held, "hold", "Echoed: 'hold'\r\n");
      const burst = await Promise.all(
        Array.from({ length: 6 }, () => RawClient.connect(server.port)),
      );
      for (const client of burst) assert.equal((await client.collect()).length, 0);
      // The first refusal is logged at once; the others together, a second later.
      await withTimeout(
        (async () => {
          while (refusedCount(server) < burst.length) await sleep(50);
        })(),
        "six refusals in the warn lines",
      );
      assert.equal(refusedCount(server), burst.length);
      held.socket.destroy();
    } finally {
      await stopCli(server);
    }
  });
});
