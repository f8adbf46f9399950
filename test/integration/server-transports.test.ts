import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Transport } from "../../src/protocols/transport.js";
import { openConnection, type StreamPair } from "../../src/streams/open-connection.js";
import { startServer } from "../../src/streams/start-server.js";
import { WAIT_MS } from "../helpers/net.js";
import { serverPort, shutDown } from "../helpers/servers.js";
import { waitFor, withTimeout } from "../helpers/with-timeout.js";

describe("server.transports()", () => {
  test("a chat broadcast reaches every open connection, once, and not the closed ones", async () => {
    // Each line a client sends goes to every connection, its own included.
    const server = await startServer(
      async (reader) => {
        for await (const line of reader) {
          for (const transport of server.transports()) transport.write(line);
        }
      },
      "127.0.0.1",
      0,
    );
    const clients: StreamPair[] = [];
    try {
      for (let i = 0; i < 3; i++)
        clients.push(await openConnection("127.0.0.1", serverPort(server)));
      await waitFor(() => server.connections === 3, WAIT_MS, "three connections");
      const listed: Transport[] = [...server.transports()];
      assert.equal(listed.length, 3);
      assert.equal(new Set(listed).size, 3, "each transport once");
      const [first, second, third] = clients as [StreamPair, StreamPair, StreamPair];

      first.writer.write("hello from 1\n");
      for (const { reader } of clients) {
        const line = await withTimeout(reader.readLine(), WAIT_MS, "the broadcast");
        assert.equal(line.toString(), "hello from 1\n");
      }

      third.writer.close();
      await withTimeout(third.writer.waitClosed(), WAIT_MS, "the third client to close");
      await waitFor(() => server.connections === 2, WAIT_MS, "the third connection to go");
      assert.equal([...server.transports()].length, 2);
      second.writer.write("hello from 2\n");
      for (const { reader } of [first, second]) {
        const line = await withTimeout(reader.readLine(), WAIT_MS, "the second broadcast");
        assert.equal(line.toString(), "hello from 2\n");
      }
    } finally {
      for (const { writer } of clients) writer.close();
      await shutDown(server);
    }
    assert.deepEqual([...server.transports()], [], "none once the server is closed");
  });
});
