import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import { readFileSync } from "node:fs";
import {
  CALC_WELCOME,
  killAll,
  type RunningServer,
  startServerCli,
  stopCli,
  waitForStderr,
  withTimeout,
} from "../cli/cli-helpers.js";
import { makeCertificates, type TestCertificates } from "../cli/tls-certs.js";
import { readToClose } from "../helpers/net.js";
import { findBinary, type RunningProxy, startHaproxy, statRow } from "../helpers/proxies.js";

const haproxy = findBinary("haproxy");
const skip = haproxy === undefined ? "haproxy is not installed (CI installs it: .ci/run)" : false;

const EXCHANGE = `${CALC_WELCOME}Sum of input numbers: '6'\r\nconnection closed\r\n`;

/** One calculator exchange over `socket` once `ready` fires; resolves with what came back. */
async function calcOver(socket: net.Socket, ready: string): Promise<string> {
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once(ready, resolve);
      socket.once("error", reject);
    }),
    `${ready} through HAProxy`,
  );
  const received = readToClose(socket);
  socket.end("1,2,3\nquit\n");
  return (await received).data.toString();
}

const escape = (text: string) => text.replace(/[.()]/g, (c) => `\\${c}`);

describe("behind a real HAProxy: send-proxy-v2 to a TLS server", { skip }, () => {
  let certs: TestCertificates;
  let server: RunningServer;
  let proxy: RunningProxy & { stats(command: string): Promise<string> };

  before(async () => {
    certs = makeCertificates();
    server = await startServerCli([
      "calc-server",
      "--proxy-protocol",
      "--tls-cert",
      certs.serverCert,
      "--tls-key",
      certs.serverKey,
      "--log-level",
      "debug",
    ]);
    proxy = await startHaproxy(haproxy as string, server.port, "haproxy-tls.cfg", [
      "FRONT_SSL_PORT",
      "FRONT_PASSTHROUGH_PORT",
    ]);
  });
  after(async () => {
    await proxy?.stop();
    if (server !== undefined) await stopCli(server);
    killAll();
    certs?.remove();
  });

  test("send-proxy-v2 ssl verify none: HAProxy's TLS after its header, the client on 127.0.0.2 seen as 127.0.0.2", async () => {
    const socket = net.connect({
      host: "127.0.0.1",
      port: proxy.ports.FRONT_SSL_PORT as number,
      localAddress: "127.0.0.2",
    });
    const localPort = new Promise<number>((resolve) =>
      socket.once("connect", () => resolve(socket.localPort as number)),
    );
    assert.equal(await calcOver(socket, "connect"), EXCHANGE);
    const port = await localPort;
    await waitForStderr(
      server,
      new RegExp(escape(`Received connection from ('127.0.0.2', ${port})`)),
    );
    await waitForStderr(server, new RegExp(escape(`_127.0.0.2_${port}: TLS handshake done`)));
  });

  test("send-proxy-v2 with the client's own TLS passed through: verified end to end, seen as 127.0.0.2", async () => {
    const raw = net.connect({
      host: "127.0.0.1",
      port: proxy.ports.FRONT_PASSTHROUGH_PORT as number,
      localAddress: "127.0.0.2",
    });
    const socket = tls.connect({
      socket: raw,
      ca: readFileSync(certs.caCert),
      servername: "localhost",
    });
    const localPort = new Promise<number>((resolve) =>
      raw.once("connect", () => resolve(raw.localPort as number)),
    );
    assert.equal(await calcOver(socket, "secureConnect"), EXCHANGE);
    const port = await localPort;
    await waitForStderr(
      server,
      new RegExp(escape(`Received connection from ('127.0.0.2', ${port})`)),
    );
  });

  test("health checks (v2 LOCAL, then TLS) keep the backend UP, nothing logged as an error", async () => {
    const deadline = Date.now() + 8000;
    let row: Record<string, string> | undefined;
    for (;;) {
      row = statRow(await proxy.stats("show stat"), "calc_ssl", "calc1");
      const checked = (server.stderr().match(/Received connection from \('127\.0\.0\.1', /g) ?? [])
        .length;
      if (checked >= 3 && row?.check_status === "L7OK") break;
      if (Date.now() > deadline) {
        assert.fail(`checks not seen: ${JSON.stringify(row)}\nserver:\n${server.stderr()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(row?.status, "UP", JSON.stringify(row));
    assert.equal(row?.chkfail, "0", JSON.stringify(row));
    assert.doesNotMatch(server.stderr(), /WARN|ERROR/, server.stderr());
    assert.doesNotMatch(proxy.log(), /WARNING|ALERT|is DOWN/, proxy.log());
  });
});
