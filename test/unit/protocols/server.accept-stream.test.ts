import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Protocol } from "../../../src/protocols/protocol.js";
import { Server } from "../../../src/protocols/server.js";
import type { Transport } from "../../../src/protocols/transport.js";
import { createConnectionPair } from "../../../src/testing/connection-pair.js";
import { duplexPair } from "../../../src/testing/duplex-pair.js";
import { WAIT_MS } from "../../helpers/net.js";
import { waitFor, withTimeout } from "../../helpers/with-timeout.js";

function echo(): Protocol {
  let t: Transport | undefined;
  return {
    connectionMade: (transport) => (t = transport),
    dataReceived: (data) => t?.write(data),
    connectionLost: () => {},
  };
}

describe("Server.acceptStream", () => {
  test("serves a stream on a server that never listened, with the facts given", async () => {
    const server = new Server(echo);
    assert.equal(server.isServing(), false, "not listening: not serving sockets");
    const [client, side] = createConnectionPair();
    server.acceptStream(side.stream, side.info);
    assert.equal(server.connections, 1);
    const { reader, writer } = client.streams();
    writer.write("abc");
    assert.equal((await reader.readExactly(3)).toString(), "abc");
    writer.close();
    server.close();
    await withTimeout(server.waitClosed(), WAIT_MS, "waitClosed");
  });

  test("admits through the limits: per peer, by the info's address", () => {
    const reasons: string[] = [];
    const server = new Server(echo, {
      maxConnectionsPerPeer: 1,
      onDrop: (_s, reason) => reasons.push(reason),
    });
    const peer = { address: "198.51.100.4", port: 1, family: "IPv4" };
    const ends = [createConnectionPair(), createConnectionPair()];
    for (const [, side] of ends)
      server.acceptStream(side.stream, { peername: peer, sockname: undefined });
    assert.deepEqual(reasons, ["maxConnectionsPerPeer"]);
    assert.equal(ends[1]?.[1].stream.destroyed, true);
    server.abortClients();
    server.close();
  });

  test("a plain Duplex without setNoDelay is served too", async () => {
    const server = new Server(echo, { maxSessions: 1 });
    const [near, far] = duplexPair();
    server.acceptStream(near, { peername: undefined, sockname: undefined });
    const got = new Promise<string>((resolve) =>
      far.once("data", (d: Buffer) => resolve(d.toString())),
    );
    far.write("x");
    assert.equal(await withTimeout(got, WAIT_MS, "the echo"), "x");
    far.destroy();
    await waitFor(() => server.connections === 0, WAIT_MS, "the close");
    server.close();
  });

  test("a closed server destroys the stream; a TLS server refuses", () => {
    const server = new Server(echo);
    server.close();
    const [, side] = createConnectionPair();
    server.acceptStream(side.stream, side.info);
    assert.equal(side.stream.destroyed, true);
    assert.equal(server.connections, 0);
    const secure = new Server(echo, { tls: {} });
    assert.throws(() => secure.acceptStream(side.stream, side.info), { name: "InvalidStateError" });
    secure.close();
  });
});
