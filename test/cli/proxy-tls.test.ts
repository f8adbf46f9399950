import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { X509Certificate } from "node:crypto";
import type tls from "node:tls";
import { buildProxyHeaderV1 } from "../../src/framing/proxy-header-build-v1.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { readToClose } from "../helpers/net.js";
import {
  killAll,
  runCli,
  sendSignal,
  startServerCli,
  stopCli,
  waitForStderr,
  withTimeout,
} from "./cli-helpers.js";
import { makeCertificates, type TestCertificates } from "./tls-certs.js";

let certs: TestCertificates;

before(() => {
  certs = makeCertificates();
});

after(() => {
  killAll();
  certs?.remove();
});

const CLIENT = { address: "192.0.2.44", port: 4444 };
const FRONT = { address: "192.0.2.1", port: 10000 };

/** An echo through `port` as a proxy with `send-proxy-v2 ssl` would: header, then TLS. Returns the server's certificate. */
async function echoBehindHeader(port: number): Promise<tls.PeerCertificate> {
  const { reader, writer } = await openConnection("127.0.0.1", port, {
    proxyHeader: { version: 2, source: CLIENT, destination: FRONT },
  });
  await withTimeout(
    writer.startTls({ side: "client", ca: readFileSync(certs.caCert), servername: "localhost" }),
    "the TLS handshake",
  );
  writer.write("hi");
  assert.equal((await withTimeout(reader.read(100), "the echo")).toString(), "hi");
  const certificate = writer.getExtraInfo("peercert") as tls.PeerCertificate;
  writer.close();
  return certificate;
}

describe("--proxy-protocol with --tls-cert/--tls-key", () => {
  test("--help says the header comes first, then TLS", async () => {
    for (const command of ["echo-server", "calc-server", "line-echo-server"]) {
      const { stdout } = await runCli([command, "--help"]);
      assert.match(stdout.toString(), /With --tls-cert the header comes in plaintext/, command);
      assert.match(stdout.toString(), /after its PROXY header with\s+--proxy-protocol/, command);
    }
  });

  test("echo-server serves the header's client over TLS, and SIGHUP reloads the certificate", async () => {
    const live = {
      cert: join(certs.dir, "proxy-live.pem"),
      key: join(certs.dir, "proxy-live.key"),
    };
    copyFileSync(certs.serverCert, live.cert);
    copyFileSync(certs.serverKey, live.key);
    const server = await startServerCli([
      "echo-server",
      "--proxy-protocol",
      "--tls-cert",
      live.cert,
      "--tls-key",
      live.key,
      "--log-level",
      "debug",
    ]);
    const fingerprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;
    try {
      const first = await echoBehindHeader(server.port);
      assert.equal(first.fingerprint256, fingerprint(certs.serverCert));
      await waitForStderr(server, /echo_192\.0\.2\.44_4444: connection accepted/);
      await waitForStderr(server, /echo_192\.0\.2\.44_4444: TLS handshake done/);

      copyFileSync(certs.server2Cert, live.cert);
      copyFileSync(certs.server2Key, live.key);
      sendSignal(server.child, "SIGHUP");
      await waitForStderr(
        server,
        /SIGHUP: reloaded TLS certificate: subject CN=asyncnet server two/,
      );
      const second = await echoBehindHeader(server.port);
      assert.equal(second.fingerprint256, fingerprint(certs.server2Cert));
      assert.equal(server.child.exitCode, null);
    } finally {
      await stopCli(server);
    }
  });

  test("calc-server: an untrusted proxy is refused before TLS; a bad handshake is logged as the header's client", async () => {
    const server = await startServerCli([
      "calc-server",
      "--proxy-protocol",
      "--trusted-proxy",
      "127.0.0.1",
      "--tls-cert",
      certs.serverCert,
      "--tls-key",
      certs.serverKey,
      "--log-level",
      "debug",
    ]);
    try {
      const header = buildProxyHeaderV1({ source: CLIENT, destination: FRONT });
      const untrusted = net.connect({
        host: "127.0.0.1",
        port: server.port,
        localAddress: "127.0.0.2",
      });
      const refused = readToClose(untrusted);
      untrusted.end(header);
      assert.equal((await withTimeout(refused, "the refusal")).data.length, 0);
      await waitForStderr(
        server,
        /WARN: Cannot accept connection: 127\.0\.0\.2 port \d+ is not a trusted proxy/,
      );
      const plaintext = net.connect({ host: "127.0.0.1", port: server.port });
      const closed = readToClose(plaintext);
      plaintext.write(Buffer.concat([header, Buffer.from("1,2\n\n\n\n\n\n")]));
      await withTimeout(closed, "the bad handshake to close");
      await waitForStderr(server, /calc_192\.0\.2\.44_4444: TLS handshake failed/);
      assert.equal(server.child.exitCode, null);
    } finally {
      await stopCli(server);
    }
  });
});
