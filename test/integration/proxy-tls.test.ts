import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import net from "node:net";
import { after, afterEach, before, describe, test } from "node:test";
import { Duplex } from "node:stream";
import tls from "node:tls";
import type { ProxyRefusedError } from "../../src/errors.js";
import { buildProxyHeaderV2 } from "../../src/framing/proxy-header-build-v2.js";
import type {
  ConnectionInfo,
  ProxyInfo,
  SocketAddress,
  TlsInfo,
} from "../../src/protocols/connection-info.js";
import type { Server, ServerOptions } from "../../src/protocols/server.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { startServer } from "../../src/streams/start-server.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { makeCertificates, type TestCertificates } from "../cli/tls-certs.js";
import { rawConnect, readToClose, WAIT_MS } from "../helpers/net.js";
import { CLIENT, echoWithPeer, FRONT, V1 } from "../helpers/proxied-peer.js";
import { serverPort, shutDown } from "../helpers/servers.js";
import { VirtualClock } from "../helpers/virtual-clock.js";
import { waitFor, withTimeout } from "../helpers/with-timeout.js";

const V2 = buildProxyHeaderV2({
  source: CLIENT,
  destination: FRONT,
  tlvs: { authority: "example.test" },
});

/** A served connection as its handler saw it. */
interface Seen {
  peername: SocketAddress;
  proxy: ProxyInfo | undefined;
  tls: TlsInfo | undefined;
}

let certs: TestCertificates;
let server: Server | undefined;
let seen: Seen[] = [];
let refusals: ProxyRefusedError[] = [];
let handshakeErrors: { error: Error; info: ConnectionInfo }[] = [];

/** Answers each line with `ADDRESS:PORT LINE`, from the connection's peername. */
async function peerEcho(reader: StreamReader, writer: StreamWriter): Promise<void> {
  const peer = writer.getExtraInfo("peername") as SocketAddress;
  seen.push({
    peername: peer,
    proxy: writer.getExtraInfo("proxy") as ProxyInfo | undefined,
    tls: writer.transport.info.tls,
  });
  await echoWithPeer(reader, writer, peer);
}

async function start(
  options: {
    handshakeTimeout?: number;
    proxy?: ServerOptions["proxyProtocol"];
  } & ServerOptions = {},
): Promise<number> {
  const { handshakeTimeout, proxy, ...rest } = options;
  server = await startServer(peerEcho, "127.0.0.1", 0, {
    ...rest,
    tls: {
      key: readFileSync(certs.serverKey),
      cert: readFileSync(certs.serverCert),
      ...(handshakeTimeout === undefined ? {} : { handshakeTimeout }),
    },
    proxyProtocol: { onRefused: (error) => refusals.push(error), ...proxy },
    onHandshakeError: (error, info) => handshakeErrors.push({ error, info }),
    onError: (error) => assert.fail(`unexpected onError: ${error.stack}`),
  });
  return serverPort(server);
}

const clientTls = () => ({ ca: readFileSync(certs.caCert), servername: "localhost" });

/** Connects with `proxyHeader`, then starts TLS on the same connection, as HAProxy's `send-proxy ssl`. */
async function proxiedTls(port: number, version: 1 | 2) {
  const connection = await openConnection("127.0.0.1", port, {
    proxyHeader:
      version === 1
        ? { version, source: CLIENT, destination: FRONT }
        : { version, source: CLIENT, destination: FRONT, tlvs: { authority: "example.test" } },
  });
  await withTimeout(
    connection.writer.startTls({ side: "client", ...clientTls() }),
    WAIT_MS,
    "the TLS handshake",
  );
  return connection;
}

/**
 * A TLS client whose first flight goes out in one write with `header` in
 * front of it (the header and the ClientHello in one segment). `firstWrite`
 * resolves with the bytes of that write.
 */
function tlsBehindHeader(port: number, header: Buffer) {
  const raw = net.connect({ port, host: "127.0.0.1" });
  raw.setNoDelay(true);
  let first: Buffer | undefined;
  let resolveFirst!: (bytes: Buffer) => void;
  const firstWrite = new Promise<Buffer>((resolve) => (resolveFirst = resolve));
  const duplex = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      if (first === undefined) {
        first = Buffer.concat([header, chunk]);
        resolveFirst(first);
        raw.write(first, callback);
      } else raw.write(chunk, callback);
    },
    final(callback) {
      raw.end(callback);
    },
    read() {
      raw.resume();
    },
    destroy(error, callback) {
      raw.destroy();
      callback(error);
    },
  });
  raw.on("data", (data) => {
    if (!duplex.push(data)) raw.pause();
  });
  raw.on("end", () => duplex.push(null));
  raw.on("error", (error) => duplex.destroy(error));
  const secure = tls.connect({ socket: duplex, ...clientTls() });
  return { secure, firstWrite };
}

/** The bytes a TLS client sends first (its ClientHello), over no network at all. */
async function clientHello(): Promise<Buffer> {
  return new Promise((resolve) => {
    const sink = new Duplex({
      write(chunk: Buffer) {
        resolve(Buffer.from(chunk));
        sink.destroy();
      },
      read() {},
    });
    tls.connect({ socket: sink, servername: "localhost" }).on("error", () => {});
  });
}

before(() => {
  certs = makeCertificates();
});

after(() => certs.remove());

afterEach(async () => {
  if (server !== undefined) await shutDown(server);
  server = undefined;
  seen = [];
  refusals = [];
  handshakeErrors = [];
});

describe("PROXY protocol in front of TLS (send-proxy ssl)", () => {
  for (const version of [1, 2] as const) {
    test(`v${version}: the header, then TLS on the same connection; the client is the header's`, async () => {
      const port = await start();
      const { reader, writer } = await proxiedTls(port, version);
      writer.write("hello\n");
      const line = await withTimeout(reader.readLine(), WAIT_MS, "the echo");
      assert.equal(line.toString(), "203.0.113.7:40000 hello\n");
      assert.match(String(writer.getExtraInfo("protocol")), /^TLSv1\.[23]$/);
      writer.close();
      await withTimeout(writer.waitClosed(), WAIT_MS, "the close");
      assert.equal(seen.length, 1);
      assert.deepEqual(seen[0]?.peername, { ...CLIENT, family: "IPv4" });
      assert.equal(seen[0]?.proxy?.header.version, version);
      assert.equal((seen[0]?.proxy?.peername as SocketAddress).address, "127.0.0.1");
      assert.match(seen[0]?.tls?.protocol ?? "", /^TLSv1\.[23]$/);
      if (version === 2) assert.equal(seen[0]?.proxy?.tlvs.authority, "example.test");
      assert.deepEqual(refusals, []);
      assert.deepEqual(handshakeErrors, []);
      assert.equal(server?.stats().served, 1);
    });
  }

  test("the header and the ClientHello in one write: nothing after the header is lost", async () => {
    const port = await start();
    for (const header of [V1, V2]) {
      const { secure, firstWrite } = tlsBehindHeader(port, header);
      const bytes = await withTimeout(firstWrite, WAIT_MS, "the first write");
      // A TLS handshake record right behind the header, in the same write.
      assert.equal(bytes[header.length], 0x16);
      assert.ok(bytes.length > header.length + 40, "a whole ClientHello in the write");
      await withTimeout(
        new Promise((resolve, reject) => {
          secure.once("secureConnect", resolve);
          secure.once("error", reject);
        }),
        WAIT_MS,
        "the handshake",
      );
      const received = readToClose(secure as unknown as net.Socket);
      secure.end("one\ntwo\n");
      assert.equal(
        (await received).data.toString(),
        "203.0.113.7:40000 one\n203.0.113.7:40000 two\n",
      );
    }
    assert.equal(seen.length, 2);
    assert.deepEqual(refusals, []);
  });

  test("an untrusted source is refused before any TLS: not a byte of a ServerHello", async () => {
    const port = await start({ proxy: { trusted: ["127.0.0.1/32"] } });
    const socket = net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.2" });
    const received = readToClose(socket);
    socket.write(Buffer.concat([V1, await clientHello()]));
    assert.equal((await received).data.length, 0);
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0]?.reason, "untrusted");
    assert.deepEqual(handshakeErrors, []);
    assert.equal(seen.length, 0);
    assert.equal(server?.proxyRefused, 1);
  });

  test("no header within headerTimeout: closed as a PROXY refusal, no handshake started", async () => {
    const clock = new VirtualClock();
    const port = await start({ clock, proxy: { headerTimeout: 3000 } });
    const socket = await rawConnect(port);
    const received = readToClose(socket);
    socket.write(V2.subarray(0, 10));
    await waitFor(() => clock.pending > 0, WAIT_MS, "the header timer");
    await clock.advance(2999);
    assert.equal(socket.destroyed, false, "still open 1 ms before the timeout");
    await clock.advance(2);
    assert.equal((await withTimeout(received, WAIT_MS, "the close")).data.length, 0);
    assert.equal(refusals[0]?.reason, "timeout");
    assert.deepEqual(handshakeErrors, []);
  });

  test("a header and then no ClientHello: closed by the handshake timeout, timed from the header's end", async () => {
    const T = 2000;
    const SLACK = Math.max(T / 10, 50);
    const headerTimeout = 60_000;
    const clock = new VirtualClock();
    const port = await start({ clock, handshakeTimeout: T, proxy: { headerTimeout } });
    const socket = await rawConnect(port);
    const received = readToClose(socket);
    await waitFor(() => clock.pending > 0, WAIT_MS, "the header timer");
    // Longer than the handshake timeout, before the header: it must not count.
    await clock.advance(3 * T);
    assert.equal(socket.destroyed, false, "waiting for its header");
    socket.write(V1);
    // The header timer (at 60 s) gives way to the handshake's, due much sooner.
    await waitFor(
      () => (clock.nextAt ?? headerTimeout) < headerTimeout,
      WAIT_MS,
      "the handshake timer",
    );
    await clock.advance(0.9 * T);
    assert.equal(socket.destroyed, false, "still in its handshake at T − 10 %");
    await clock.advance(0.1 * T + SLACK);
    assert.equal((await withTimeout(received, WAIT_MS, "the close")).data.length, 0);
    assert.deepEqual(refusals, [], "not a PROXY refusal");
    assert.equal(server?.proxyRefused, 0);
    // As for plain TLS, Node may report the closed handshake (`socket hang up`): with the header's client.
    for (const { info } of handshakeErrors) {
      assert.deepEqual(info.peername, { address: "203.0.113.7", port: 40000, family: "IPv4" });
    }
    assert.equal(seen.length, 0);
  });

  test("a bad handshake after a good header is a handshake error with the header's client, not a refusal", async () => {
    const port = await start();
    const socket = await rawConnect(port);
    const received = readToClose(socket);
    socket.write(Buffer.concat([V2, Buffer.from("GET / HTTP/1.0\r\n\r\n")]));
    await withTimeout(received, WAIT_MS, "the close");
    await waitFor(() => handshakeErrors.length === 1, WAIT_MS, "onHandshakeError");
    assert.deepEqual(handshakeErrors[0]?.info.peername, { ...CLIENT, family: "IPv4" });
    assert.equal(handshakeErrors[0]?.info.proxy?.header.version, 2);
    assert.deepEqual(refusals, []);
    const stats = server?.stats();
    assert.equal(server?.proxyRefused, 0);
    assert.deepEqual(stats?.refused, { maxConnections: 0, maxConnectionsPerPeer: 0 });
    assert.equal(stats?.accepted, 1);
    assert.equal(stats?.served, 0);
  });

  test("setSecureContext applies to the connections that come after it", async () => {
    const port = await start();
    const serial = async () => {
      const { reader, writer } = await proxiedTls(port, 2);
      const certificate = writer.getExtraInfo("peercert") as tls.PeerCertificate;
      writer.write("x\n");
      await withTimeout(reader.readLine(), WAIT_MS, "the echo");
      writer.close();
      return certificate.serialNumber;
    };
    const before = await serial();
    server?.setSecureContext({
      key: readFileSync(certs.server2Key),
      cert: readFileSync(certs.server2Cert),
    });
    const afterReload = await serial();
    assert.notEqual(afterReload, before);
    const expected = new (await import("node:crypto")).X509Certificate(
      readFileSync(certs.server2Cert),
    );
    assert.equal(afterReload, expected.serialNumber);
  });

  test("the per-peer limit counts the header's client, the TLS handshake included", async () => {
    const drops: ConnectionInfo[] = [];
    const port = await start({
      maxConnectionsPerPeer: 1,
      onDrop: (_socket, _reason, info) => drops.push(info),
    });
    const first = await proxiedTls(port, 1);
    const socket = await rawConnect(port);
    const received = readToClose(socket);
    socket.write(V1);
    await withTimeout(received, WAIT_MS, "the refused one to close");
    assert.equal(drops.length, 1);
    assert.deepEqual(drops[0]?.peername, { ...CLIENT, family: "IPv4" });
    first.writer.close();
  });
});
