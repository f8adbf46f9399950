import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import tls from "node:tls";
import {
  CALC_WELCOME,
  killAll,
  RawClient,
  type RunningServer,
  startServerCli,
  stopCli,
  TIMEOUT,
  waitForStderr,
  withTimeout,
  sendSignal,
} from "./cli-helpers.js";
import { waitFor } from "../helpers/with-timeout.js";
import { makeCertificates, type TestCertificates } from "./tls-certs.js";

let certs: TestCertificates;

before(() => {
  certs = makeCertificates();
});

after(() => {
  killAll();
  certs?.remove();
});

/** `openssl s_client -quiet` fed `input` on stdin; resolves with its stdout once the server closed. */
async function sClient(port: number, input: string): Promise<Buffer> {
  const child = spawn(
    "openssl",
    ["s_client", "-connect", `127.0.0.1:${port}`, "-quiet", "-CAfile", certs.caCert],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
  // -quiet implies -ign_eof: closing stdin does not end the session, the server's close does.
  child.stdin.end(input);
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  try {
    await withTimeout(exited, `openssl s_client (stderr: ${Buffer.concat(err)})`, 30_000);
  } finally {
    child.kill("SIGKILL");
  }
  return Buffer.concat(out);
}

/** What a plain TCP client receives for `input`, written at once, until the server closes. */
async function plainExchange(port: number, input: string): Promise<Buffer> {
  const client = await RawClient.connect(port);
  client.write(input);
  return client.collect();
}

/** A TLS connection to 127.0.0.1 trusting the test CA; resolves once the handshake is done. */
async function connectTls(
  port: number,
  options: tls.ConnectionOptions = {},
): Promise<tls.TLSSocket> {
  const socket = tls.connect({
    host: "127.0.0.1",
    port,
    ca: readFileSync(certs.caCert),
    ...options,
  });
  socket.on("error", () => undefined);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    }),
    "TLS handshake",
  );
  return socket;
}

/** Reads from `socket` until `text` has arrived in full. */
async function readUntil(socket: tls.TLSSocket, text: string): Promise<string> {
  let received = "";
  const done = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (received.includes(text)) {
        socket.off("data", onData);
        resolve(received);
      }
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error(`closed; got ${JSON.stringify(received)}`)));
  });
  return withTimeout(done, `${JSON.stringify(text)} (got ${JSON.stringify(received)})`);
}

function tlsFlags(cert = certs.serverCert, key = certs.serverKey): string[] {
  return ["--tls-cert", cert, "--tls-key", key];
}

describe("TLS servers answer openssl s_client byte for byte as plain TCP", () => {
  const cases: [string, string[], string][] = [
    ["calc-server", ["calc-server"], "1,2\n4,-9\nproduct\n3,5\nquit\n"],
    ["line-echo-server", ["line-echo-server"], "hello\nd\u00e9j\u00e0\nquit\n"],
    ["echo-server --until", ["echo-server", "--until", "quit"], "hello\nquit\n"],
    [
      "echo-server --style protocol",
      ["echo-server", "--style", "protocol", "--idle-timeout", "0.5"],
      "hello",
    ],
  ];
  for (const [name, args, input] of cases) {
    test(name, async () => {
      const plain = await startServerCli(args);
      const secure = await startServerCli([...args, ...tlsFlags()]);
      try {
        // Neither client sends EOF (s_client -quiet cannot): the protocol echo is ended by
        // its idle timeout, the others by their input.
        const expected = await plainExchange(plain.port, input);
        assert.ok(expected.length > 0);
        const got = await sClient(secure.port, input);
        assert.equal(got.toString("latin1"), expected.toString("latin1"));
      } finally {
        await stopCli(plain);
        await stopCli(secure);
      }
    });
  }

  test("calc-server's TLS reply is the seed's transcript", async () => {
    const server = await startServerCli(["calc-server", ...tlsFlags()]);
    try {
      const got = await sClient(server.port, "1,2\nquit\n");
      assert.equal(
        got.toString("latin1"),
        `${CALC_WELCOME}Sum of input numbers: '3'\r\nconnection closed\r\n`,
      );
    } finally {
      await stopCli(server);
    }
  });
});

describe("--tls-verify-client", () => {
  let server: RunningServer;

  before(async () => {
    server = await startServerCli([
      "calc-server",
      ...tlsFlags(),
      "--tls-verify-client",
      "--tls-ca",
      certs.caCert,
    ]);
  });

  after(async () => {
    if (server !== undefined) await stopCli(server).catch(() => undefined);
  });

  /** Connects with `options`; resolves with what arrived before the connection closed. */
  async function refusedClient(
    options: tls.ConnectionOptions,
  ): Promise<{ data: string; port: number }> {
    const socket = tls.connect({
      host: "127.0.0.1",
      port: server.port,
      ca: readFileSync(certs.caCert),
      ...options,
    });
    let data = "";
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    socket.on("error", () => undefined);
    let port = 0;
    socket.once("connect", () => (port = socket.localPort ?? 0));
    await withTimeout(new Promise((resolve) => socket.once("close", resolve)), "the refusal");
    return { data, port };
  }

  test("refuses a client without a certificate, logged at warn with the peer", async () => {
    const { data, port } = await refusedClient({});
    assert.equal(data, "");
    await waitForStderr(
      server,
      new RegExp(`calc_127\\.0\\.0\\.1_${port}: WARN: refused: client certificate rejected`),
    );
  });

  test("refuses a client certificate signed by another CA", async () => {
    const { data, port } = await refusedClient({
      cert: readFileSync(certs.strangerCert),
      key: readFileSync(certs.strangerKey),
    });
    assert.equal(data, "");
    await waitForStderr(
      server,
      new RegExp(`calc_127\\.0\\.0\\.1_${port}: WARN: refused: client certificate rejected`),
    );
  });

  test("a burst of refused clients costs a warn line a second, the last one counting the others", async () => {
    const REFUSED = 12;
    const before = server.stderr().length;
    for (let i = 0; i < REFUSED; i++) await refusedClient({});
    // Every refusal is in a line, its own or as one of the "N more" of a later one.
    const counted = () =>
      [
        ...server
          .stderr()
          .slice(before)
          .matchAll(/WARN: refused: client certificate rejected[^\n]*/g),
      ]
        .map(([line]) => 1 + Number(/\((\d+) more since the last report\)/.exec(line)?.[1] ?? 0))
        .reduce((sum, n) => sum + n, 0);
    await waitFor(() => counted() >= REFUSED, TIMEOUT, "every refusal to be reported");
    assert.equal(counted(), REFUSED);
    const lines =
      server
        .stderr()
        .slice(before)
        .match(/client certificate rejected/g) ?? [];
    assert.ok(lines.length < REFUSED, `${lines.length} lines for ${REFUSED} refusals`);
  });

  test("serves a client whose certificate the CA signed", async () => {
    const socket = await connectTls(server.port, {
      cert: readFileSync(certs.clientCert),
      key: readFileSync(certs.clientKey),
    });
    try {
      assert.equal(await readUntil(socket, CALC_WELCOME), CALC_WELCOME);
      socket.write("2,3\n");
      await readUntil(socket, "Sum of input numbers: '5'\r\n");
    } finally {
      socket.destroy();
    }
  });
});

describe("SIGHUP", () => {
  const fingerprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

  test("reloads the certificate for new connections; open ones go on; a broken file keeps the old", async () => {
    const live = { cert: join(certs.dir, "live.pem"), key: join(certs.dir, "live.key") };
    copyFileSync(certs.serverCert, live.cert);
    copyFileSync(certs.serverKey, live.key);
    const server = await startServerCli(["calc-server", ...tlsFlags(live.cert, live.key)]);
    try {
      const before = await connectTls(server.port);
      assert.equal(before.getPeerCertificate().fingerprint256, fingerprint(certs.serverCert));
      await readUntil(before, CALC_WELCOME);

      copyFileSync(certs.server2Cert, live.cert);
      copyFileSync(certs.server2Key, live.key);
      sendSignal(server.child, "SIGHUP");
      await waitForStderr(
        server,
        /SIGHUP: reloaded TLS certificate: subject CN=asyncnet server two, expires \w+/,
      );
      const fresh = await connectTls(server.port);
      assert.equal(fresh.getPeerCertificate().fingerprint256, fingerprint(certs.server2Cert));
      fresh.destroy();
      // The connection opened before still works, on its old session.
      before.write("1,2\n");
      await readUntil(before, "Sum of input numbers: '3'\r\n");
      assert.equal(before.getPeerCertificate().fingerprint256, fingerprint(certs.serverCert));

      writeFileSync(live.cert, "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
      sendSignal(server.child, "SIGHUP");
      await waitForStderr(server, /main: ERROR: SIGHUP: kept the old TLS certificate: Cannot load/);
      const after = await connectTls(server.port);
      assert.equal(after.getPeerCertificate().fingerprint256, fingerprint(certs.server2Cert));
      await readUntil(after, CALC_WELCOME);
      after.destroy();
      before.destroy();
      assert.equal(server.child.exitCode, null);
    } finally {
      await stopCli(server);
    }
  });

  test("without TLS it is logged and ignored: the server goes on", async () => {
    const server = await startServerCli(["line-echo-server"]);
    try {
      sendSignal(server.child, "SIGHUP");
      await waitForStderr(server, /main: SIGHUP ignored: no TLS certificate to reload/);
      const client = await RawClient.connect(server.port);
      client.write("hi\n");
      await client.waitFor("Echoed: 'hi'\r\n");
      client.socket.destroy();
      const { code } = await stopCli(server);
      assert.equal(code, 0);
    } finally {
      server.child.kill("SIGKILL");
    }
  });
});

describe("--tls-handshake-timeout", () => {
  const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

  test("reclaims 500 connections that never send a ClientHello", async () => {
    const server = await startServerCli([
      "line-echo-server",
      ...tlsFlags(),
      "--tls-handshake-timeout",
      "1",
    ]);
    const pid = server.child.pid as number;
    const sockets: net.Socket[] = [];
    try {
      const baseline = openFds(pid);
      const closed: Promise<void>[] = [];
      for (let i = 0; i < 500; i++) {
        const socket = net.connect({ host: "127.0.0.1", port: server.port });
        socket.on("error", () => undefined);
        closed.push(new Promise((resolve) => socket.once("close", () => resolve())));
        sockets.push(socket);
      }
      // Each one closed by the server: the clients neither send nor end.
      await withTimeout(Promise.all(closed), "the server to close all 500", 15_000);
      await withTimeout(
        (async () => {
          while (openFds(pid) > baseline + 5) await sleep(50);
        })(),
        `the server's descriptors back to ${baseline}`,
      );
      // Timed out, not refused by a limit.
      assert.doesNotMatch(server.stderr(), /refused/);
      // The server still serves TLS afterwards.
      const socket = await connectTls(server.port);
      socket.write("hello\n");
      await readUntil(socket, "Echoed: 'hello'\r\n");
      socket.destroy();
    } finally {
      for (const socket of sockets) socket.destroy();
      await stopCli(server);
    }
  });
});
