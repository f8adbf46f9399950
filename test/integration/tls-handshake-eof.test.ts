import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildProxyHeaderV1 } from "../../src/framing/proxy-header-build-v1.js";
import { startServer } from "../../src/streams/start-server.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { rawConnect, readToClose, WAIT_MS } from "../helpers/net.js";
import { serverPort, shutDown } from "../helpers/servers.js";
import { selfSignedCert } from "../helpers/tls-cert.js";
import { withTimeout } from "../helpers/with-timeout.js";

// Far above WAIT_MS: a connection that waits for it fails the test instead.
const HANDSHAKE_TIMEOUT_MS = 120_000;
const PARTIAL_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00]);

async function echoLines(reader: StreamReader, writer: StreamWriter): Promise<void> {
  for await (const line of reader) writer.write(line);
}

describe("TLS: a client's EOF during the handshake", () => {
  const { key, cert } = selfSignedCert();

  for (const [what, hello] of [
    ["before any byte", Buffer.alloc(0)],
    ["in the middle of its hello", PARTIAL_HELLO],
  ] as const) {
    test(`${what} closes the connection at once, not at the handshake timeout`, async () => {
      const server = await startServer(echoLines, "127.0.0.1", 0, {
        tls: { key, cert, handshakeTimeout: HANDSHAKE_TIMEOUT_MS },
      });
      try {
        const socket = await rawConnect(serverPort(server));
        const closed = readToClose(socket);
        socket.end(hello);
        const received = await withTimeout(closed, WAIT_MS, "the server to close");
        assert.equal(received.data.length, 0, "nothing but the close");
        assert.equal(server.connections, 0);
      } finally {
        await shutDown(server);
      }
    });
  }

  test("after a PROXY header, in the middle of the hello, closes at once too", async () => {
    const server = await startServer(echoLines, "127.0.0.1", 0, {
      tls: { key, cert, handshakeTimeout: HANDSHAKE_TIMEOUT_MS },
      proxyProtocol: {},
    });
    try {
      const socket = await rawConnect(serverPort(server));
      const closed = readToClose(socket);
      const header = buildProxyHeaderV1({
        source: { address: "203.0.113.7", port: 40000 },
        destination: { address: "198.51.100.1", port: 443 },
      });
      socket.end(Buffer.concat([header, PARTIAL_HELLO]));
      const received = await withTimeout(closed, WAIT_MS, "the server to close");
      assert.equal(received.data.length, 0, "nothing but the close");
    } finally {
      await shutDown(server);
    }
  });
});
