import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  createServer,
  type Protocol,
  type SocketAddress,
  StreamProtocol,
  type StreamReader,
  type StreamWriter,
  type Transport,
} from "../../src/index.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { WAIT_MS } from "../helpers/net.js";
import { readToEof, serverPort, shutDown } from "../helpers/servers.js";
import { waitFor, withTimeout } from "../helpers/with-timeout.js";

/**
 * A user's own protocol: counts the bytes it receives and hands the
 * connection to a reader/writer pair through a StreamProtocol it owns.
 */
class CountingProtocol implements Protocol {
  readonly inner: StreamProtocol;
  received = 0;

  constructor(handler: (reader: StreamReader, writer: StreamWriter) => Promise<void>) {
    this.inner = new StreamProtocol({ limit: 1024 }, (reader, writer) => {
      void handler(reader, writer).finally(() => writer.close());
    });
  }

  connectionMade(transport: Transport): void {
    this.inner.connectionMade(transport);
  }

  dataReceived(data: Buffer): void {
    this.received += data.length;
    this.inner.dataReceived(data);
  }

  eofReceived(): boolean {
    return this.inner.eofReceived();
  }

  connectionLost(error?: Error): void {
    this.inner.connectionLost(error);
  }

  pauseWriting(): void {
    this.inner.pauseWriting();
  }

  resumeWriting(): void {
    this.inner.resumeWriting();
  }
}

describe("a reader/writer pair over a protocol of one's own", () => {
  test("a wrapper around StreamProtocol serves lines through its reader and writer", async () => {
    const protocols: CountingProtocol[] = [];
    const peers: (SocketAddress | string | undefined)[] = [];
    const server = await createServer(
      () => {
        const protocol = new CountingProtocol(async (reader, writer) => {
          // Typed by name: no cast needed for the peer's address.
          const peer: SocketAddress | string | undefined = writer.getExtraInfo("peername");
          peers.push(peer);
          for await (const line of reader) {
            writer.write(line.toString().toUpperCase());
            await writer.drain();
          }
        });
        protocols.push(protocol);
        return protocol;
      },
      "127.0.0.1",
      0,
    );
    try {
      const { reader, writer } = await openConnection("127.0.0.1", serverPort(server));
      writer.write("hello\nworld\n");
      writer.writeEof();
      const reply = await withTimeout(readToEof(reader), WAIT_MS, "the reply");
      assert.equal(reply.toString(), "HELLO\nWORLD\n");
      assert.equal(protocols.length, 1);
      assert.equal(protocols[0]?.received, 12, "the wrapper saw every byte");
      await waitFor(() => protocols[0]?.inner.lost === true, WAIT_MS, "the wrapped protocol's end");
      const peer = peers[0];
      assert.ok(typeof peer === "object", "the peer by name");
      assert.equal(peer.address, "127.0.0.1");
      const local = writer.getExtraInfo("sockname");
      assert.ok(typeof local === "object");
      assert.equal(peer.port, local.port, "the server's peer is this client");
    } finally {
      await shutDown(server);
    }
  });
});
