import assert from "node:assert/strict";
import type net from "node:net";
import { describe, test } from "node:test";
import { createConnection } from "../../src/protocols/create-connection.js";
import { createServer } from "../../src/protocols/create-server.js";
import type { Protocol } from "../../src/protocols/protocol.js";
import type { Transport } from "../../src/protocols/transport.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { startServer } from "../../src/streams/start-server.js";
import { portOf, rawConnect, rawServer, WAIT_MS } from "../helpers/net.js";
import { deferred, serverPort, shutDown } from "../helpers/servers.js";
import { withTimeout } from "../helpers/with-timeout.js";

const HIGH = 16 * 1024;
const LOW = 4 * 1024;
const CHUNK = Buffer.alloc(4096, 0x77);

/** Writes as soon as connected until the transport pauses it; records the marks' calls. */
class Firehose implements Protocol {
  readonly calls: [string, number][] = [];
  readonly paused = deferred();
  readonly resumed = deferred();
  transport!: Transport;

  connectionMade(transport: Transport): void {
    this.transport = transport;
    transport.setWriteBufferLimits({ high: HIGH, low: LOW });
    for (let sent = 0; this.calls.length === 0; sent += CHUNK.length) {
      if (sent > 512 * 1024 * 1024) throw new Error("pauseWriting was never called");
      transport.write(CHUNK);
    }
  }
  dataReceived(): void {}
  connectionLost(): void {}
  pauseWriting(): void {
    this.calls.push(["pauseWriting", this.transport.getWriteBufferSize()]);
    this.paused.resolve();
  }
  resumeWriting(): void {
    this.calls.push(["resumeWriting", this.transport.getWriteBufferSize()]);
    this.resumed.resolve();
  }
}

describe("write buffer marks", () => {
  test("pauseWriting is called above the high mark and resumeWriting at the low mark", async () => {
    const protocol = new Firehose();
    const server = await createServer(() => protocol, "127.0.0.1", 0);
    try {
      const client = await rawConnect(serverPort(server));
      client.pause();
      await withTimeout(protocol.paused.promise, WAIT_MS, "pauseWriting");
      const [pause] = protocol.calls;
      assert.equal(pause?.[0], "pauseWriting");
      assert.ok((pause?.[1] ?? 0) > HIGH && (pause?.[1] ?? 0) <= HIGH + CHUNK.length);
      assert.deepEqual(protocol.transport.getWriteBufferLimits(), { high: HIGH, low: LOW });
      client.resume();
      await withTimeout(protocol.resumed.promise, WAIT_MS, "resumeWriting");
      assert.equal(protocol.calls.length, 2);
      assert.equal(protocol.calls[1]?.[0], "resumeWriting");
      assert.ok((protocol.calls[1]?.[1] ?? Number.POSITIVE_INFINITY) <= LOW);
      client.destroy();
    } finally {
      await shutDown(server);
    }
  });

  test("setWriteBufferLimits defaults follow asyncio: 64 KiB, low = high / 4, high = 4 × low", async () => {
    const transport = deferred<Transport>();
    const server = await createServer(
      () => ({ connectionMade: transport.resolve, dataReceived() {}, connectionLost() {} }),
      "127.0.0.1",
      0,
    );
    try {
      const client = await rawConnect(serverPort(server));
      const t = await withTimeout(transport.promise, WAIT_MS, "connectionMade");
      assert.deepEqual(t.getWriteBufferLimits(), { high: 65536, low: 16384 });
      t.setWriteBufferLimits({ high: 1000 });
      assert.deepEqual(t.getWriteBufferLimits(), { high: 1000, low: 250 });
      t.setWriteBufferLimits({ low: 300 });
      assert.deepEqual(t.getWriteBufferLimits(), { high: 1200, low: 300 });
      t.setWriteBufferLimits({ high: 0, low: 0 });
      assert.deepEqual(t.getWriteBufferLimits(), { high: 0, low: 0 });

      const bad: [object, string][] = [
        [{ high: 10, low: 20 }, "Invalid write buffer limits: low (20) is above high (10)"],
        [{ low: 40, high: 39 }, "Invalid write buffer limits: low (40) is above high (39)"],
        [{ high: -1 }, "Invalid write buffer limit: high must be an integer >= 0, got -1"],
        [{ low: 1.5 }, "Invalid write buffer limit: low must be an integer >= 0, got 1.5"],
      ];
      for (const [limits, message] of bad) {
        assert.throws(() => t.setWriteBufferLimits(limits), { name: "RangeError", message });
      }
      assert.deepEqual(t.getWriteBufferLimits(), { high: 0, low: 0 });
      client.destroy();
    } finally {
      await shutDown(server);
    }
  });

  test("createServer and startServer reject invalid options before listening", async () => {
    const cases: [string, () => Promise<unknown>, string][] = [
      [
        "writeBufferLimits low > high",
        () =>
          createServer(() => new Firehose(), "127.0.0.1", 0, {
            writeBufferLimits: { high: 1, low: 2 },
          }),
        "Invalid write buffer limits: low (2) is above high (1)",
      ],
      [
        "a reader limit of 0",
        () => startServer(() => {}, "127.0.0.1", 0, { limit: 0 }),
        "Invalid limit: must be a positive integer, got 0",
      ],
      [
        "a negative maxConnections",
        () => startServer(() => {}, "127.0.0.1", 0, { maxConnections: -1 }),
        "Invalid server option: maxConnections must be an integer >= 0, got -1",
      ],
      [
        "a port out of range",
        () => startServer(() => {}, "127.0.0.1", 65536),
        "Invalid port: must be an integer in 0..65535, got 65536",
      ],
    ];
    for (const [what, start, message] of cases) {
      await assert.rejects(start(), { name: "RangeError", message }, what);
    }
  });

  test("openConnection and createConnection reject invalid options before connecting", async () => {
    const accepted: net.Socket[] = [];
    const server = await rawServer((socket) => accepted.push(socket));
    try {
      const port = portOf(server);
      await assert.rejects(openConnection("127.0.0.1", port, { limit: -5 }), {
        name: "RangeError",
        message: "Invalid limit: must be a positive integer, got -5",
      });
      await assert.rejects(
        createConnection(() => new Firehose(), "127.0.0.1", port, {
          writeBufferLimits: { high: 5, low: 6 },
        }),
        { name: "RangeError", message: "Invalid write buffer limits: low (6) is above high (5)" },
      );
      await assert.rejects(openConnection("", port), {
        name: "TypeError",
        message: "Invalid host: expected a non-empty string",
      });
      // A connection that was opened anyway would show up here.
      const probe = await rawConnect(port);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(accepted.length, 1);
      probe.destroy();
    } finally {
      for (const socket of accepted) socket.destroy();
      server.close();
    }
  });
});
