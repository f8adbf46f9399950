import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { echoClient } from "../../../src/apps/echo-client.js";
import { echoClientProtocol } from "../../../src/apps/echo-client-protocol.js";
import { EchoServerProtocol } from "../../../src/apps/echo-protocol.js";
import { createServer } from "../../../src/protocols/create-server.js";
import type { Server } from "../../../src/protocols/server.js";
import { recordingLogger } from "./fakes.js";

/** A collecting stand-in for stdout. */
function sink() {
  const chunks: Buffer[] = [];
  return {
    chunks,
    write(chunk: Uint8Array | string) {
      chunks.push(Buffer.from(chunk));
      return true;
    },
    once() {
      return this;
    },
    text: () => Buffer.concat(chunks).toString(),
  };
}

describe("EchoServerProtocol with the echo clients, on loopback", () => {
  let server: Server;
  let port: number;
  const log = recordingLogger("debug");

  before(async () => {
    server = await createServer(
      () => new EchoServerProtocol({ logger: log.logger, failOn: [Buffer.from("boom")] }),
      "127.0.0.1",
      0,
      { onError: () => undefined },
    );
    port = (server.address() as net.AddressInfo).port;
  });

  after(async () => {
    server.close();
    server.closeClients();
    await server.waitClosed();
  });

  test("echoClient gets the seed's messages back and resolves at the server's EOF", async () => {
    const out = sink();
    const { logger, lines } = recordingLogger("debug");
    const received = await echoClient("127.0.0.1", port, { logger, output: out });
    assert.equal(out.text(), "This is the message. It will be sent in parts.");
    assert.equal(received, out.text().length);
    assert.equal(lines[0], `echo_client: connecting to 127.0.0.1 port ${port}`);
    assert.equal(lines.at(-1), "echo_client: closing");
  });

  test("echoClientProtocol settles its completion at the server's EOF", async () => {
    const out = sink();
    const { logger, lines } = recordingLogger("debug");
    const received = await echoClientProtocol("127.0.0.1", port, {
      logger,
      output: out,
      messages: ["a", Buffer.from("b")],
    });
    assert.equal(out.text(), "ab");
    assert.equal(received, 2);
    assert.ok(lines.includes("EchoClient: received EOF"));
  });

  test("the server logs the seed's story, EOF answered with EOF", async () => {
    const out = sink();
    const { logger } = recordingLogger("info");
    const before = log.lines.length;
    await echoClientProtocol("127.0.0.1", port, { logger, output: out, messages: ["xy"] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const story = log.lines
      .slice(before)
      .map((line) => line.replace(/^EchoServer_127\.0\.0\.1_\d+: /, ""));
    assert.deepEqual(story, [
      "connection accepted",
      "received b'xy'",
      "sent b'xy'",
      "received EOF",
      "closing",
    ]);
  });

  test("a failing chunk closes only its connection and logs ERROR", async () => {
    const before = log.lines.length;
    const victim = net.connect(port, "127.0.0.1");
    victim.on("error", () => undefined);
    victim.write("boom");
    await new Promise((resolve) => victim.on("close", resolve));
    const out = sink();
    await echoClient("127.0.0.1", port, {
      logger: recordingLogger("info").logger,
      output: out,
      messages: ["ok"],
    });
    assert.equal(out.text(), "ok");
    assert.ok(
      log.lines.slice(before).some((line) => /: ERROR: Boom! \(received b'boom'\)$/.test(line)),
      log.lines.slice(before).join("\n"),
    );
  });

  test("the clients reject when the connection is refused", async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const closed = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const logger = recordingLogger("info").logger;
    await assert.rejects(
      echoClient("127.0.0.1", closed, { logger, output: sink() }),
      /ECONNREFUSED/,
    );
    await assert.rejects(
      echoClientProtocol("127.0.0.1", closed, { logger, output: sink() }),
      /ECONNREFUSED/,
    );
  });
});
