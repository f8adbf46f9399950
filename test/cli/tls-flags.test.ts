import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import { parseTlsClientFlags, parseTlsServerFlags } from "../../src/cli/tls-flags.js";
import { UsageError } from "../../src/cli/command.js";
import {
  killAll,
  runCli,
  type RunningServer,
  startServerCli,
  stopCli,
  waitForStderr,
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

describe("parseTlsServerFlags", () => {
  test("no flag: plain TCP", () => {
    assert.equal(parseTlsServerFlags({}), undefined);
  });

  test("defaults: no client verification, a 10 s handshake timeout", () => {
    assert.deepEqual(parseTlsServerFlags({ "tls-cert": "c.pem", "tls-key": "k.pem" }), {
      certFile: "c.pem",
      keyFile: "k.pem",
      caFile: undefined,
      verifyClient: false,
      handshakeTimeout: 10_000,
    });
  });

  test("refuses half a pair, and flags that need another", () => {
    const bad = [
      { "tls-cert": "c.pem" },
      { "tls-key": "k.pem" },
      { "tls-handshake-timeout": "5" },
      { "tls-cert": "c", "tls-key": "k", "tls-verify-client": true },
      { "tls-cert": "c", "tls-key": "k", "tls-ca": "ca" },
      { "tls-cert": "c", "tls-key": "k", "tls-handshake-timeout": "0" },
      { "tls-cert": "c", "tls-key": "k", "tls-handshake-timeout": "-1" },
    ];
    for (const values of bad) assert.throws(() => parseTlsServerFlags(values), UsageError);
  });
});

describe("parseTlsClientFlags", () => {
  test("no flag: plain TCP; --tls alone: Node's defaults", async () => {
    assert.equal(await parseTlsClientFlags({}), undefined);
    assert.deepEqual(await parseTlsClientFlags({ tls: true }), {});
  });

  test("--ca-certificate adds to the roots; --insecure and --server-name imply --tls", async () => {
    const options = await parseTlsClientFlags({ "ca-certificate": certs.caCert });
    assert.equal(options?.ca?.length, tls.rootCertificates.length + 1);
    assert.deepEqual(await parseTlsClientFlags({ insecure: true }), { rejectUnauthorized: false });
    assert.deepEqual(await parseTlsClientFlags({ "server-name": "localhost" }), {
      servername: "localhost",
    });
  });

  test("a CA file that is missing or holds no certificate is a usage error", async () => {
    const empty = join(certs.dir, "empty.pem");
    writeFileSync(empty, "nothing\n");
    await assert.rejects(parseTlsClientFlags({ "ca-certificate": empty }), UsageError);
    await assert.rejects(
      parseTlsClientFlags({ "ca-certificate": join(certs.dir, "missing.pem") }),
      UsageError,
    );
  });
});

describe("server TLS flags on the command line", () => {
  test("--tls-cert without --tls-key (and the reverse) exits 2, as other usage errors", async () => {
    for (const command of ["echo-server", "line-echo-server", "calc-server"]) {
      for (const flags of [
        ["--tls-cert", certs.serverCert],
        ["--tls-key", certs.serverKey],
      ]) {
        const { code, stderr } = await runCli([command, "--port", "0", ...flags]);
        assert.equal(code, 2, stderr);
        assert.match(stderr, /needs --tls-/);
      }
    }
  });

  test("a file that cannot be read or parsed exits 1 with a clear error", async () => {
    const broken = join(certs.dir, "broken.pem");
    writeFileSync(broken, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    const missing = await runCli([
      "calc-server",
      "--port",
      "0",
      "--tls-cert",
      join(certs.dir, "missing.pem"),
      "--tls-key",
      certs.serverKey,
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /main: ERROR: Cannot read --tls-cert .*missing\.pem/);
    const unparsable = await runCli([
      "echo-server",
      "--port",
      "0",
      "--tls-cert",
      broken,
      "--tls-key",
      certs.serverKey,
    ]);
    assert.equal(unparsable.code, 1);
    assert.match(unparsable.stderr, /main: ERROR: Cannot load the TLS certificate/);
    const mismatched = await runCli([
      "line-echo-server",
      "--port",
      "0",
      "--tls-cert",
      certs.serverCert,
      "--tls-key",
      certs.server2Key,
    ]);
    assert.equal(mismatched.code, 1);
    assert.match(mismatched.stderr, /Cannot load the TLS certificate/);
  });

  test("--help of every server documents the flags", async () => {
    for (const command of ["echo-server", "line-echo-server", "calc-server"]) {
      const { stdout } = await runCli([command, "--help"]);
      for (const flag of [
        "--tls-cert",
        "--tls-key",
        "--tls-ca",
        "--tls-verify-client",
        "--tls-handshake-timeout",
        "SIGHUP",
      ]) {
        assert.ok(stdout.includes(flag), `${command} --help: ${flag}`);
      }
    }
  });

  test("debug logs each TLS connection's version and cipher; JSON has them as fields", async () => {
    const server = await startServerCli([
      "echo-server",
      "--once",
      "--tls-cert",
      certs.serverCert,
      "--tls-key",
      certs.serverKey,
      "--log-level",
      "debug",
      "--log-format",
      "json",
    ]);
    try {
      const client = await runCli([
        "echo-client",
        "--once",
        "--host",
        "127.0.0.1",
        "--port",
        String(server.port),
        "--ca-certificate",
        certs.caCert,
        "hi",
      ]);
      assert.equal(client.code, 0, client.stderr);
      const [line] = await waitForStderr(server, /\{[^\n]*"msg":"TLS handshake done"[^\n]*\}/);
      const record = JSON.parse(line) as Record<string, unknown>;
      assert.match(String(record.tlsVersion), /^TLSv1\.[23]$/);
      assert.match(String(record.cipher), /^TLS_/);
      assert.match(String(record.name), /^echo_127\.0\.0\.1_\d+$/);
    } finally {
      await stopCli(server);
    }
  });
});

describe("echo-client --tls", () => {
  let server: RunningServer;
  let selfSigned: RunningServer;

  before(async () => {
    const tlsFlags = ["--tls-cert", certs.serverCert, "--tls-key", certs.serverKey];
    server = await startServerCli(["echo-server", "--until", "quit", ...tlsFlags]);
    selfSigned = await startServerCli([
      "echo-server",
      "--until",
      "quit",
      "--tls-cert",
      certs.selfCert,
      "--tls-key",
      certs.selfKey,
    ]);
  });

  after(async () => {
    for (const s of [server, selfSigned]) if (s !== undefined) await stopCli(s).catch(() => 0);
  });

  const client = (port: number, ...flags: string[]) =>
    runCli([
      "echo-client",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      ...flags,
      "--",
      "hello quit\n",
    ]);

  test("--tls --ca-certificate against a TLS echo-server, both styles", async () => {
    for (const style of ["streams", "protocol"]) {
      const { code, stdout, stderr } = await client(
        server.port,
        "--style",
        style,
        "--tls",
        "--ca-certificate",
        certs.caCert,
      );
      assert.equal(code, 0, stderr);
      assert.equal(stdout.toString("utf8"), "hello quit\n");
    }
  });

  test("--server-name is the name checked in the certificate", async () => {
    const good = await client(
      server.port,
      "--ca-certificate",
      certs.caCert,
      "--server-name",
      "localhost",
    );
    assert.equal(good.code, 0, good.stderr);
    const bad = await client(
      server.port,
      "--ca-certificate",
      certs.caCert,
      "--server-name",
      "other.example",
    );
    assert.equal(bad.code, 5, bad.stderr);
  });

  test("--insecure against a self-signed server", async () => {
    const { code, stdout, stderr } = await client(selfSigned.port, "--insecure");
    assert.equal(code, 0, stderr);
    assert.equal(stdout.toString("utf8"), "hello quit\n");
  });

  test("a verification failure exits 5 with a hint", async () => {
    for (const style of ["streams", "protocol"]) {
      const { code, stdout, stderr } = await client(selfSigned.port, "--tls", "--style", style);
      assert.equal(code, 5, stderr);
      assert.equal(stdout.length, 0);
      assert.match(stderr, /certificate verification failed: .*--ca-certificate FILE.*--insecure/);
    }
    const once = await client(server.port, "--tls", "--once");
    assert.equal(once.code, 5, once.stderr);
  });
});
