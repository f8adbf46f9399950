import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import {
  CALC_WELCOME,
  killAll,
  type RunningServer,
  startServerCli,
  stopCli,
  waitForStderr,
  withTimeout,
} from "../cli/cli-helpers.js";
import { readToClose } from "../helpers/net.js";
import { findBinary, type RunningProxy, startHaproxy, statRow } from "../helpers/proxies.js";

const haproxy = findBinary("haproxy");
const skip = haproxy === undefined ? "haproxy is not installed (CI installs it: .ci/run)" : false;

/** One calculator exchange from a client bound to `localAddress`, through `port`. */
async function calcThrough(
  port: number,
  localAddress: string,
): Promise<{ data: string; localPort: number }> {
  const socket = net.connect({ host: "127.0.0.1", port, localAddress });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    }),
    "connect through HAProxy",
  );
  const localPort = socket.localPort as number;
  const received = readToClose(socket);
  socket.end("1,2,3\nquit\n");
  return { data: (await received).data.toString(), localPort };
}

describe("behind a real HAProxy (send-proxy, send-proxy-v2, health checks)", { skip }, () => {
  let server: RunningServer;
  let proxy: RunningProxy & { stats(command: string): Promise<string> };

  before(async () => {
    server = await startServerCli(["calc-server", "--proxy-protocol", "--log-level", "debug"]);
    proxy = await startHaproxy(haproxy as string, server.port);
  });
  after(async () => {
    await proxy?.stop();
    if (server !== undefined) await stopCli(server);
    killAll();
  });

  for (const [name, portName] of [
    ["send-proxy (v1)", "FRONT_V1_PORT"],
    ["send-proxy-v2", "FRONT_V2_PORT"],
  ] as const) {
    test(`${name}: a client on 127.0.0.2 is seen and logged as 127.0.0.2`, async () => {
      const { data, localPort } = await calcThrough(proxy.ports[portName] as number, "127.0.0.2");
      assert.equal(data, `${CALC_WELCOME}Sum of input numbers: '6'\r\nconnection closed\r\n`);
      const peer = `('127.0.0.2', ${localPort})`;
      await waitForStderr(
        server,
        new RegExp(`Received connection from \\${peer.replace(")", "\\)")}`),
      );
      await waitForStderr(server, new RegExp(`\\${peer.replace(")", "\\)")} --> 1,2,3`));
    });
  }

  test("health checks (v2 LOCAL, v1) keep both backends UP, nothing logged as an error", async () => {
    // Enough checks to have seen several of each: one every 500 ms per backend.
    const deadline = Date.now() + 8000;
    let rows: (Record<string, string> | undefined)[];
    for (;;) {
      const csv = await proxy.stats("show stat");
      rows = [statRow(csv, "calc_v1", "calc1"), statRow(csv, "calc_v2", "calc1")];
      const checked = (server.stderr().match(/Received connection from \('127\.0\.0\.1', /g) ?? [])
        .length;
      if (checked >= 6 && rows.every((row) => row?.check_status === "L7OK")) break;
      if (Date.now() > deadline) {
        assert.fail(`checks not seen: ${JSON.stringify(rows)}\nserver:\n${server.stderr()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    for (const row of rows) {
      assert.equal(row?.status, "UP", JSON.stringify(row));
      assert.equal(row?.chkfail, "0", JSON.stringify(row));
    }
    assert.doesNotMatch(server.stderr(), /WARN|ERROR/, server.stderr());
    assert.doesNotMatch(proxy.log(), /WARNING|ALERT/, proxy.log());
    assert.doesNotMatch(proxy.log(), /is DOWN/, proxy.log());
  });

  test("by default every loopback address is a trusted proxy: a header sent straight from 127.0.0.2 is believed", async () => {
    const socket = net.connect({ host: "127.0.0.1", port: server.port, localAddress: "127.0.0.2" });
    const received = readToClose(socket);
    socket.end("PROXY TCP4 203.0.113.9 127.0.0.1 1234 8080\r\n1,2\n");
    // 127.0.0.2 is loopback, trusted by default: the header is believed, the peer is the header's.
    assert.match((await received).data.toString(), /Sum of input numbers: '3'/);
    await waitForStderr(server, /Received connection from \('203\.0\.113\.9', 1234\)/);
  });
});

describe("calc-server --proxy-protocol --trusted-proxy 127.0.0.1/32", () => {
  let server: RunningServer;
  before(async () => {
    server = await startServerCli([
      "calc-server",
      "--proxy-protocol",
      "--trusted-proxy",
      "127.0.0.1/32",
      "--log-level",
      "debug",
    ]);
  });
  after(async () => {
    if (server !== undefined) await stopCli(server);
    killAll();
  });

  test("a forged header from 127.0.0.2 is refused unread and logged at warn", async () => {
    const socket = net.connect({ host: "127.0.0.1", port: server.port, localAddress: "127.0.0.2" });
    const received = readToClose(socket);
    socket.end("PROXY TCP4 203.0.113.9 127.0.0.1 1234 8080\r\n1,2\n");
    assert.equal((await received).data.length, 0);
    await waitForStderr(
      server,
      /WARN.*Cannot accept connection: 127\.0\.0\.2 port \d+ is not a trusted proxy/,
    );
    assert.doesNotMatch(server.stderr(), /203\.0\.113\.9/);
  });
});
