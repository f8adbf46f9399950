import assert from "node:assert/strict";
import type net from "node:net";
import { after, before, describe, test } from "node:test";
import type { PeerCertificate } from "node:tls";
import type { ConnectionInfo } from "../../src/protocols/connection-info.js";
import type { Server } from "../../src/protocols/server.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { startServer } from "../../src/streams/start-server.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { rawConnect, WAIT_MS } from "../helpers/net.js";
import { serverPort, shutDown } from "../helpers/servers.js";
import { selfSignedCert } from "../helpers/tls-cert.js";
import { sleep, withTimeout } from "../helpers/with-timeout.js";

const seenByServer: { canWriteEof: boolean; writeEofError: unknown; info: ConnectionInfo }[] = [];

async function lineEcho(reader: StreamReader, writer: StreamWriter): Promise<void> {
  seenByServer.push({
    canWriteEof: writer.canWriteEof(),
    info: writer.transport.info,
    writeEofError: (() => {
      try {
        writer.writeEof();
      } catch (error) {
        return error;
      }
    })(),
  });
  for await (const line of reader) {
    writer.write(line);
    await writer.drain();
  }
}

describe("TLS", () => {
  const { key, cert } = selfSignedCert();
  let server: Server;
  let port: number;
  before(async () => {
    server = await startServer(lineEcho, "127.0.0.1", 0, { tls: { key, cert } });
    port = serverPort(server);
  });
  after(async () => {
    await shutDown(server);
  });

  const verified: [string, string, object][] = [
    ["the IP address in the certificate", "127.0.0.1", { ca: cert }],
    ["the server name localhost", "localhost", { ca: cert, servername: "localhost" }],
  ];
  for (const [what, host, tls] of verified) {
    test(`a client trusting the certificate and checking ${what} round-trips a line`, async () => {
      const { reader, writer } = await openConnection(host, port, { tls });
      writer.write("hello over tls\n");
      const line = await withTimeout(reader.readLine(), WAIT_MS, "the echoed line");
      assert.equal(line.toString(), "hello over tls\n");
      writer.close();
      await withTimeout(writer.waitClosed(), WAIT_MS, "the client to close");
    });
  }

  test("a TLS connection reports its peer certificate and cipher and cannot write EOF", async () => {
    const { reader, writer } = await openConnection("localhost", port, { tls: { ca: cert } });
    const peercert = writer.getExtraInfo("peercert") as PeerCertificate;
    assert.equal(peercert.subject.CN, "localhost");
    assert.match(peercert.subjectaltname ?? "", /DNS:localhost/);
    const cipher = writer.getExtraInfo("cipher") as { name: string; version: string };
    assert.equal(typeof cipher.name, "string");
    assert.match(cipher.version, /^TLSv1\.[23]$/);
    assert.equal(writer.canWriteEof(), false);
    assert.throws(() => writer.writeEof(), {
      name: "InvalidStateError",
      code: "ERR_INVALID_STATE",
      message: "Cannot write EOF: TLS transports cannot half-close",
    });
    writer.write("ping\n");
    assert.equal((await withTimeout(reader.readLine(), WAIT_MS, "echo")).toString(), "ping\n");
    const serverSide = seenByServer.at(-1);
    assert.equal(serverSide?.canWriteEof, false);
    assert.match(String(serverSide?.writeEofError), /Cannot write EOF/);
    writer.close();
    await withTimeout(writer.waitClosed(), WAIT_MS, "the client to close");
  });

  test("both ends' ConnectionInfo holds the TLS state, and keeps it after the close", async () => {
    const { reader, writer } = await openConnection("localhost", port, { tls: { ca: cert } });
    writer.write("info\n");
    await withTimeout(reader.readLine(), WAIT_MS, "echo");
    writer.close();
    await withTimeout(writer.waitClosed(), WAIT_MS, "the client to close");
    const client = writer.transport.info;
    assert.match(client.tls?.protocol ?? "", /^TLSv1\.[23]$/);
    assert.equal(client.tls?.authorized, true);
    assert.equal(client.tls?.peerCertificate.subject.CN, "localhost");
    assert.equal(writer.getExtraInfo("cipher")?.name, client.tls?.cipher.name);
    assert.deepEqual(client.peername, { address: "127.0.0.1", port, family: "IPv4" });
    const server = seenByServer.at(-1)?.info;
    assert.equal(server?.tls?.protocol, client.tls?.protocol);
    assert.equal(server?.tls?.cipher.name, client.tls?.cipher.name);
    assert.deepEqual(server?.sockname, client.peername);
    assert.deepEqual(server?.peername, client.sockname);
  });

  test("a client using the system CAs (tls: true) rejects the self-signed certificate", async () => {
    const error = await withTimeout(
      openConnection("localhost", port, { tls: true }).catch((e: unknown) => e),
      WAIT_MS,
      "the handshake to fail",
    );
    assert.ok(error instanceof Error);
    // The code is the stable part: Node 24 appended a --use-system-ca hint to the
    // message, and Bun (BoringSSL) spells it "self signed certificate".
    assert.equal((error as NodeJS.ErrnoException).code, "DEPTH_ZERO_SELF_SIGNED_CERT");
  });

  test("a client checking another server name rejects the certificate", async () => {
    const error = await withTimeout(
      openConnection("127.0.0.1", port, { tls: { ca: cert, servername: "example.com" } }).catch(
        (e: unknown) => e,
      ),
      WAIT_MS,
      "the handshake to fail",
    );
    assert.equal((error as NodeJS.ErrnoException).code, "ERR_TLS_CERT_ALTNAME_INVALID");
  });

  test("the server keeps serving after a client refused its certificate", async () => {
    await openConnection("localhost", port, { tls: true }).catch(() => {});
    const { reader, writer } = await openConnection("localhost", port, { tls: { ca: cert } });
    writer.write("again\n");
    assert.equal((await withTimeout(reader.readLine(), WAIT_MS, "echo")).toString(), "again\n");
    writer.close();
  });
});

describe("TLS with maxConnections", () => {
  const { key, cert } = selfSignedCert();

  test("connections still in their handshake count, and free their place when they close", async () => {
    const reasons: string[] = [];
    const server = await startServer(lineEcho, "127.0.0.1", 0, {
      tls: { key, cert },
      maxConnections: 2,
      onDrop: (_socket, reason) => reasons.push(reason),
    });
    const silent: net.Socket[] = [];
    try {
      const port = serverPort(server);
      // Two clients that connect and never say hello: each holds a place.
      // The server accepts in arrival order, so these two are in before the third.
      for (let i = 0; i < 2; i++) silent.push(await rawConnect(port));
      const refused = await openConnection("127.0.0.1", port, { tls: { ca: cert } }).then(
        (pair) => {
          pair.writer.close();
          return "served";
        },
        (error: NodeJS.ErrnoException) => error.code ?? "error",
      );
      assert.notEqual(refused, "served");
      assert.deepEqual(reasons, ["maxConnections"]);
      // A reset frees the place at once (so does a FIN: tls-handshake-eof.test.ts).
      (silent.shift() as net.Socket).resetAndDestroy();
      // The server learns of that reset a moment later: retry, within a bound.
      const deadline = Date.now() + WAIT_MS;
      let echoed = "";
      while (echoed === "" && Date.now() < deadline) {
        const pair = await openConnection("127.0.0.1", port, { tls: { ca: cert } }).catch(
          () => null,
        );
        if (pair === null) {
          await sleep(20);
          continue;
        }
        pair.writer.write("in\n");
        echoed = (await withTimeout(pair.reader.readLine(), WAIT_MS, "echo")).toString();
        pair.writer.close();
      }
      assert.equal(echoed, "in\n", "a TLS client is served once a place is free");
    } finally {
      for (const socket of silent) socket.destroy();
      await shutDown(server);
    }
  });
});
