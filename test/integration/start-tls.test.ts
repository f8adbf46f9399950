import assert from "node:assert/strict";
import net from "node:net";
import { Duplex } from "node:stream";
import { afterEach, describe, test } from "node:test";
import tls from "node:tls";
import { InvalidStateError, TimeoutError, TlsHandshakeError } from "../../src/errors.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { portOf, rawConnect, rawServer, readToClose, WAIT_MS } from "../helpers/net.js";
import { serverPort, shutDown } from "../helpers/servers.js";
import { startSmtpServer } from "../helpers/smtp-starttls.js";
import { selfSignedCert } from "../helpers/tls-cert.js";
import { VirtualClock } from "../helpers/virtual-clock.js";
import { waitFor, withTimeout } from "../helpers/with-timeout.js";

const { cert } = selfSignedCert();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function smtpServer(options: Parameters<typeof startSmtpServer>[0] = {}) {
  const started = await startSmtpServer(options);
  cleanups.push(() => shutDown(started.server));
  return { ...started, port: serverPort(started.server) };
}

/** Reads from a raw socket until `text` has arrived; resolves with all bytes so far. */
function readUntilText(socket: net.Socket, text: string): Promise<string> {
  let seen = "";
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        seen += chunk.toString("latin1");
        if (seen.includes(text)) {
          socket.off("data", onData);
          resolve(seen);
        }
      };
      socket.on("data", onData);
      socket.once("close", () =>
        reject(new Error(`closed before ${JSON.stringify(text)}: ${seen}`)),
      );
    }),
    WAIT_MS,
    `raw socket to read ${JSON.stringify(text)}`,
  );
}

/**
 * A client that writes `STARTTLS\r\n` and starts its TLS handshake without
 * waiting for the reply, so the ClientHello follows the command at once (one
 * segment: the socket is corked over both). The `220` reply is taken off the
 * input before TLS sees it.
 */
async function pipelinedStartTls(port: number): Promise<{ secure: tls.TLSSocket; reply: string }> {
  const raw = await rawConnect(port);
  cleanups.push(() => void raw.destroy());
  await readUntilText(raw, "asyncnet\r\n");
  let pending = Buffer.alloc(0);
  let reply: string | undefined;
  let replied: (text: string) => void = () => {};
  const replyPromise = new Promise<string>((resolve) => (replied = resolve));
  let corked = true;
  const shim = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      raw.write(chunk, callback);
      if (corked) {
        corked = false;
        raw.uncork();
      }
    },
    final(callback) {
      raw.end();
      callback();
    },
  });
  raw.on("data", (chunk: Buffer) => {
    if (reply !== undefined) {
      shim.push(chunk);
      return;
    }
    pending = Buffer.concat([pending, chunk]);
    const end = pending.indexOf("\r\n");
    if (end === -1) return;
    reply = pending.subarray(0, end).toString("latin1");
    replied(reply);
    if (end + 2 < pending.length) shim.push(pending.subarray(end + 2));
  });
  raw.on("end", () => shim.push(null));
  raw.cork();
  raw.write("STARTTLS\r\n");
  const secure = tls.connect({ socket: shim, ca: cert, servername: "localhost" });
  cleanups.push(() => void secure.destroy());
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", () => resolve());
      secure.once("error", reject);
    }),
    WAIT_MS,
    "the pipelined handshake",
  );
  return { secure, reply: await replyPromise };
}

/** A relay on 127.0.0.1 that forwards both directions one byte per event-loop turn. */
async function byteByByteProxy(target: number): Promise<number> {
  const sockets = new Set<net.Socket>();
  const proxy = await rawServer((inbound) => {
    const outbound = net.connect({ port: target, host: "127.0.0.1" });
    sockets.add(inbound).add(outbound);
    const relay = (from: net.Socket, to: net.Socket) => {
      let queue: number[] = [];
      let flowing = false;
      const pump = () => {
        const byte = queue.shift();
        if (byte === undefined) {
          flowing = false;
          return;
        }
        to.write(Buffer.of(byte));
        setImmediate(pump);
      };
      from.on("data", (chunk: Buffer) => {
        queue = queue.concat([...chunk]);
        if (!flowing) {
          flowing = true;
          setImmediate(pump);
        }
      });
      from.on("end", () => to.destroy());
      from.on("close", () => to.destroy());
      from.on("error", () => {});
    };
    relay(inbound, outbound);
    relay(outbound, inbound);
  });
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await withTimeout(
      new Promise<void>((resolve) => proxy.close(() => resolve())),
      WAIT_MS,
      "the proxy to close",
    );
  });
  return portOf(proxy);
}

async function noopOverTls(secure: tls.TLSSocket): Promise<string> {
  secure.write("NOOP\r\n");
  return readUntilText(secure as unknown as net.Socket, "250 ok\r\n");
}

describe("STARTTLS, server side", () => {
  test("a ClientHello sent in the same write as STARTTLS completes the upgrade and loses nothing", async () => {
    const { port, log } = await smtpServer();
    const { secure, reply } = await pipelinedStartTls(port);
    assert.equal(reply, "220 ready");
    assert.equal(await noopOverTls(secure), "250 ok\r\n");
    // The ClientHello was in the reader's buffer when the command was read.
    assert.ok((log.bufferedAtStartTls[0] ?? 0) > 0, `buffered: ${log.bufferedAtStartTls}`);
    assert.deepEqual(log.commands, [
      { line: "STARTTLS", secure: false },
      { line: "NOOP", secure: true },
    ]);
    assert.equal(log.protocols[0], secure.getProtocol());
    assert.deepEqual(log.upgradeErrors, []);
  });

  test("the pipelined upgrade works with every byte delivered on its own", async () => {
    const { port, log } = await smtpServer();
    const { secure } = await pipelinedStartTls(await byteByByteProxy(port));
    assert.equal(await noopOverTls(secure), "250 ok\r\n");
    assert.deepEqual(
      log.commands.map((c) => [c.line, c.secure]),
      [
        ["STARTTLS", false],
        ["NOOP", true],
      ],
    );
  });

  for (const policy of ["feed", "reject"] as const) {
    test(`plaintext injected behind STARTTLS never reaches the application (${policy})`, async () => {
      const { port, log } = await smtpServer({ bufferedPlaintext: policy });
      const raw = await rawConnect(port);
      await readUntilText(raw, "220 localhost");
      const closed = readToClose(raw);
      raw.write("STARTTLS\r\nRSET\r\n");
      await closed;
      await waitFor(() => log.upgradeErrors.length === 1, WAIT_MS, "the upgrade to fail");
      assert.deepEqual(log.commands, [{ line: "STARTTLS", secure: false }]);
      assert.equal(log.bufferedAtStartTls[0], "RSET\r\n".length);
      const error = log.upgradeErrors[0];
      assert.ok(error instanceof TlsHandshakeError);
      assert.equal(error.code, "ERR_TLS_HANDSHAKE");
      assert.equal(error.name, "TlsHandshakeError");
      if (policy === "reject") {
        assert.equal(
          error.message,
          "Cannot start TLS: 6 bytes of plaintext arrived after the command",
        );
      } else {
        assert.match(error.message, /^Cannot complete TLS handshake: /);
        assert.ok(error.cause instanceof Error, "Node's error is the cause");
      }
      // Reported once through onError, though the handler saw it too.
      assert.deepEqual(log.reported, [error]);
    });
  }

  test("a handshake that does not finish in handshakeTimeout closes the connection with a TlsHandshakeError", async () => {
    const clock = new VirtualClock();
    const { port, log } = await smtpServer({ clock, handshakeTimeout: 5000 });
    const raw = await rawConnect(port);
    await readUntilText(raw, "220 localhost");
    raw.write("STARTTLS\r\n");
    await readUntilText(raw, "220 ready");
    const closed = readToClose(raw);
    await clock.advance(4990);
    assert.equal(log.upgradeErrors.length, 0, "not before the timeout");
    await clock.advance(20);
    await closed;
    await waitFor(() => log.upgradeErrors.length === 1, WAIT_MS, "the upgrade to fail");
    const error = log.upgradeErrors[0];
    assert.ok(error instanceof TlsHandshakeError);
    assert.ok(error.cause instanceof TimeoutError);
    assert.equal(
      error.message,
      "Cannot complete TLS handshake: TLS handshake timed out after 5000 ms",
    );
    assert.deepEqual(log.reported, [error]);
  });

  test("an abort signal cancels a pending upgrade with its reason and closes the connection", async () => {
    const controller = new AbortController();
    const { port, log } = await smtpServer({ signal: controller.signal });
    const raw = await rawConnect(port);
    await readUntilText(raw, "220 localhost");
    raw.write("STARTTLS\r\n");
    await readUntilText(raw, "220 ready");
    const closed = readToClose(raw);
    controller.abort();
    await closed;
    await waitFor(() => log.upgradeErrors.length === 1, WAIT_MS, "the upgrade to be cancelled");
    const error = log.upgradeErrors[0] as Error;
    assert.equal(error.name, "AbortError");
    assert.deepEqual(log.reported, [], "a cancel is not an error to report");
  });
});

describe("STARTTLS, client side", () => {
  /** A raw server: greeting, then `reply` (in one write) to STARTTLS, then TLS with `onSecure`. */
  async function rawStartTlsServer(
    reply: string,
    onSecure: (secure: tls.TLSSocket) => void = () => {},
  ): Promise<number> {
    const { key } = selfSignedCert();
    const accepted = new Set<net.Socket>();
    const server = await rawServer((socket) => {
      accepted.add(socket);
      socket.on("error", () => {});
      socket.write("220 raw ESMTP\r\n");
      socket.once("data", () => {
        socket.write(reply);
        const secure = new tls.TLSSocket(socket, { isServer: true, key, cert });
        secure.on("error", () => {});
        secure.once("secure", () => onSecure(secure));
      });
    });
    cleanups.push(async () => {
      for (const socket of accepted) socket.destroy();
      await withTimeout(
        new Promise<void>((resolve) => server.close(() => resolve())),
        WAIT_MS,
        "the raw server to close",
      );
    });
    return portOf(server);
  }

  test("a client upgrades after the 220 reply and talks over TLS with the same reader and writer", async () => {
    const port = await rawStartTlsServer("220 ready\r\n", (secure) => {
      secure.on("data", (data: Buffer) => secure.write(`250 got ${data.toString()}`));
    });
    const { reader, writer } = await openConnection("127.0.0.1", port);
    cleanups.push(() => writer.transport.abort());
    assert.equal(
      (await withTimeout(reader.readLine(), WAIT_MS, "greeting")).toString(),
      "220 raw ESMTP\r\n",
    );
    assert.equal(writer.transport.info.tls === undefined, true);
    writer.write("STARTTLS\r\n");
    assert.equal(
      (await withTimeout(reader.readLine(), WAIT_MS, "reply")).toString(),
      "220 ready\r\n",
    );
    await withTimeout(
      writer.startTls({ side: "client", ca: cert, servername: "localhost" }),
      WAIT_MS,
      "the upgrade",
    );
    assert.equal(writer.canWriteEof(), false);
    assert.match(String(writer.getExtraInfo("protocol")), /^TLSv1\.[23]$/);
    assert.equal(writer.transport.info.tls?.authorized, true);
    assert.equal(writer.getExtraInfo("peercert")?.subject?.CN, "localhost");
    writer.write("NOOP\r\n");
    const line = await withTimeout(reader.readLine(), WAIT_MS, "the reply over TLS");
    assert.equal(line.toString(), "250 got NOOP\r\n");
    await assert.rejects(writer.startTls({ side: "client" }), InvalidStateError);
  });

  for (const policy of ["feed", "reject"] as const) {
    test(`plaintext the server sends behind its 220 is never read as if secure (${policy})`, async () => {
      const port = await rawStartTlsServer("220 ready\r\n250 injected plaintext\r\n");
      const { reader, writer } = await openConnection("127.0.0.1", port);
      cleanups.push(() => writer.transport.abort());
      await withTimeout(reader.readLine(), WAIT_MS, "greeting");
      writer.write("STARTTLS\r\n");
      assert.equal(
        (await withTimeout(reader.readLine(), WAIT_MS, "reply")).toString(),
        "220 ready\r\n",
      );
      assert.ok(reader.bufferedSize > 0, "the injected line is in the reader");
      const upgrade = writer.startTls({
        side: "client",
        ca: cert,
        servername: "localhost",
        bufferedPlaintext: policy,
      });
      await assert.rejects(withTimeout(upgrade, WAIT_MS, "the upgrade"), TlsHandshakeError);
      await assert.rejects(
        withTimeout(reader.readLine(), WAIT_MS, "a read after"),
        TlsHandshakeError,
      );
      await withTimeout(writer.waitClosed(), WAIT_MS, "the connection to close");
    });
  }

  test("startTls refuses bad options before touching the connection", async () => {
    const port = await rawStartTlsServer("220 ready\r\n");
    const { reader, writer } = await openConnection("127.0.0.1", port);
    cleanups.push(() => writer.transport.abort());
    await withTimeout(reader.readLine(), WAIT_MS, "greeting");
    await assert.rejects(writer.startTls({ side: "sideways" } as never), TypeError);
    await assert.rejects(writer.startTls({ side: "client", handshakeTimeout: 0 }), RangeError);
    assert.equal(writer.isClosing(), false);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(writer.startTls({ side: "client", signal: controller.signal }), {
      name: "AbortError",
    });
    assert.equal(writer.isClosing(), true);
  });
});
