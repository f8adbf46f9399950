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
import { findBinary, nginxHasStream, type RunningProxy, startNginx } from "../helpers/proxies.js";

const nginx = findBinary("nginx");
const skip =
  nginx === undefined
    ? "nginx is not installed (CI installs it: .ci/run)"
    : !nginxHasStream(nginx)
      ? "nginx has no stream module (Debian: libnginx-mod-stream; CI installs it)"
      : false;

describe("behind a real nginx stream proxy (proxy_protocol on: v1)", { skip }, () => {
  let server: RunningServer;
  let proxy: RunningProxy;

  before(async () => {
    server = await startServerCli(["calc-server", "--proxy-protocol", "--log-level", "debug"]);
    proxy = await startNginx(nginx as string, server.port);
  });
  after(async () => {
    await proxy?.stop();
    if (server !== undefined) await stopCli(server);
    killAll();
  });

  test("a client on 127.0.0.2 is seen and logged as 127.0.0.2, nothing logged as an error", async () => {
    const socket = net.connect({
      host: "127.0.0.1",
      port: proxy.ports.FRONT_PORT as number,
      localAddress: "127.0.0.2",
    });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      }),
      "connect through nginx",
    );
    const localPort = socket.localPort as number;
    const received = readToClose(socket);
    socket.end("4,5\nquit\n");
    assert.equal(
      (await received).data.toString(),
      `${CALC_WELCOME}Sum of input numbers: '9'\r\nconnection closed\r\n`,
    );
    await waitForStderr(
      server,
      new RegExp(`Received connection from \\('127\\.0\\.0\\.2', ${localPort}\\)`),
    );
    await waitForStderr(server, new RegExp(`\\('127\\.0\\.0\\.2', ${localPort}\\) --> 4,5`));
    assert.doesNotMatch(server.stderr(), /WARN|ERROR/, server.stderr());
    assert.doesNotMatch(proxy.log(), /\[(error|crit|alert|emerg)\]/, proxy.log());
  });
});
