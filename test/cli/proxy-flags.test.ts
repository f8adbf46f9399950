import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { buildProxyHeaderV2 } from "../../src/framing/proxy-header-build-v2.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { readToClose } from "../helpers/net.js";
import { spawnSync } from "node:child_process";
import net from "node:net";
import {
  CALC_WELCOME,
  killAll,
  runCli,
  startServerCli,
  stopCli,
  waitForStderr,
} from "./cli-helpers.js";

after(killAll);

describe("--proxy-protocol and --trusted-proxy", () => {
  test("are in every server's --help", async () => {
    for (const command of ["echo-server", "calc-server", "line-echo-server"]) {
      const { stdout } = await runCli([command, "--help"]);
      assert.match(stdout.toString(), /--proxy-protocol/, command);
      assert.match(stdout.toString(), /--trusted-proxy CIDR/, command);
    }
  });

  test("--trusted-proxy needs --proxy-protocol, and an address or CIDR", async () => {
    const alone = await runCli(["calc-server", "--trusted-proxy", "10.0.0.0/8", "--port", "0"]);
    assert.equal(alone.code, 2, alone.stderr);
    assert.match(alone.stderr, /--trusted-proxy needs --proxy-protocol/);
    const bad = await runCli(["echo-server", "--proxy-protocol", "--trusted-proxy", "10.0.0.0/40"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /Invalid --trusted-proxy: "10\.0\.0\.0\/40"/);
  });

  test("echo-server --proxy-protocol logs the header's client (a client with proxyHeader)", async () => {
    const server = await startServerCli([
      "echo-server",
      "--proxy-protocol",
      "--log-level",
      "debug",
    ]);
    try {
      const { reader, writer } = await openConnection("127.0.0.1", server.port, {
        proxyHeader: {
          version: 2,
          source: { address: "192.0.2.44", port: 4444 },
          destination: { address: "192.0.2.1", port: 10000 },
        },
      });
      writer.write("hi");
      assert.equal((await reader.read(100)).toString(), "hi");
      writer.close();
      await waitForStderr(server, /echo_192\.0\.2\.44_4444: connection accepted/);
    } finally {
      await stopCli(server);
    }
  });

  // Linux's ss shows a listening socket's accept queue length as its Send-Q.
  const ss = spawnSync("ss", ["-V"]).status === 0;
  test(
    "--proxy-protocol listens with an accept queue of 4096 (clamped by somaxconn)",
    { skip: !ss },
    async () => {
      const somaxconn = Number(
        spawnSync("cat", ["/proc/sys/net/core/somaxconn"]).stdout.toString().trim(),
      );
      const server = await startServerCli(["calc-server", "--proxy-protocol"]);
      try {
        const out = spawnSync("ss", ["-ltnH", `sport = :${server.port}`]).stdout.toString();
        const sendQ = Number(out.trim().split(/\s+/)[2]);
        assert.equal(sendQ, Math.min(4096, somaxconn), out);
        assert.ok(sendQ > 511, "more than Node's default (somaxconn too small to tell otherwise)");
      } finally {
        await stopCli(server);
      }
    },
  );

  test("calc-server: repeated --trusted-proxy entries are all trusted", async () => {
    const server = await startServerCli([
      "calc-server",
      "--proxy-protocol",
      "--trusted-proxy",
      "127.0.0.2",
      "--trusted-proxy",
      "10.0.0.0/8",
      "--log-level",
      "debug",
    ]);
    try {
      const header = buildProxyHeaderV2({
        source: { address: "198.51.100.9", port: 999 },
        destination: { address: "198.51.100.1", port: 8080 },
      });
      const trusted = net.connect({
        host: "127.0.0.1",
        port: server.port,
        localAddress: "127.0.0.2",
      });
      const served = readToClose(trusted);
      trusted.end(Buffer.concat([header, Buffer.from("quit\n")]));
      assert.equal((await served).data.toString(), `${CALC_WELCOME}connection closed\r\n`);
      await waitForStderr(server, /Received connection from \('198\.51\.100\.9', 999\)/);
      const untrusted = net.connect({
        host: "127.0.0.1",
        port: server.port,
        localAddress: "127.0.0.1",
      });
      const refused = readToClose(untrusted);
      untrusted.end(Buffer.concat([header, Buffer.from("quit\n")]));
      assert.equal((await refused).data.length, 0);
      await waitForStderr(
        server,
        /WARN: Cannot accept connection: 127\.0\.0\.1 port \d+ is not a trusted proxy/,
      );
    } finally {
      await stopCli(server);
    }
  });
});
