import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createConnection } from "../../src/protocols/create-connection.js";
import { createServer } from "../../src/protocols/create-server.js";
import type { Protocol } from "../../src/protocols/protocol.js";
import type { Transport } from "../../src/protocols/transport.js";
import type { Server } from "../../src/protocols/server.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { WAIT_MS } from "../helpers/net.js";
import { deferred, readToEof, serverPort, shutDown } from "../helpers/servers.js";
import { withTimeout } from "../helpers/with-timeout.js";

const MESSAGES = ["This is the message. ", "It will be sent ", "in parts."];

/** The seed 003 echo server, recording every callback. */
class EchoServer implements Protocol {
  readonly calls: string[] = [];
  readonly lost = deferred();
  transport!: Transport;

  connectionMade(transport: Transport): void {
    this.calls.push("connectionMade");
    this.transport = transport;
  }
  dataReceived(data: Buffer): void {
    this.calls.push("dataReceived");
    this.transport.write(data);
  }
  eofReceived(): void {
    this.calls.push("eofReceived");
    if (this.transport.canWriteEof()) this.transport.writeEof();
  }
  connectionLost(error?: Error): void {
    this.calls.push(error === undefined ? "connectionLost" : `connectionLost: ${error.message}`);
    this.lost.resolve();
  }
}

/** The seed 003 echo client: three writes and EOF; done (once) at EOF or connection loss. */
class EchoClient implements Protocol {
  readonly calls: string[] = [];
  readonly received: Buffer[] = [];
  readonly completed = deferred<string>();
  readonly lost = deferred();
  transport!: Transport;

  connectionMade(transport: Transport): void {
    this.calls.push("connectionMade");
    this.transport = transport;
    for (const message of MESSAGES) transport.write(message);
    if (transport.canWriteEof()) transport.writeEof();
  }
  dataReceived(data: Buffer): void {
    this.calls.push("dataReceived");
    this.received.push(data);
  }
  eofReceived(): void {
    this.calls.push("eofReceived");
    this.transport.close();
    this.completed.resolve("eof");
  }
  connectionLost(): void {
    this.calls.push("connectionLost");
    this.completed.resolve("lost");
    this.lost.resolve();
  }
}

const ORDER = /^connectionMade(,dataReceived)+,eofReceived,connectionLost$/;

async function withServer(
  factory: () => Protocol,
  body: (server: Server, port: number) => Promise<void>,
  onError?: (error: Error) => void,
): Promise<void> {
  const server = await createServer(factory, "127.0.0.1", 0, { onError });
  try {
    await body(server, serverPort(server));
  } finally {
    await shutDown(server);
  }
}

describe("protocol echo (seed 003)", () => {
  test("the client's three parts come back, the server answers EOF with EOF, callbacks run in order once", async () => {
    const servers: EchoServer[] = [];
    await withServer(
      () => {
        const protocol = new EchoServer();
        servers.push(protocol);
        return protocol;
      },
      async (_server, port) => {
        const [transport, client] = await createConnection(
          () => new EchoClient(),
          "127.0.0.1",
          port,
        );
        assert.equal(transport.canWriteEof(), true);
        assert.equal(await withTimeout(client.completed.promise, WAIT_MS, "client EOF"), "eof");
        assert.equal(Buffer.concat(client.received).toString(), MESSAGES.join(""));
        const server = servers[0] as EchoServer;
        await withTimeout(server.lost.promise, WAIT_MS, "server connectionLost");
        assert.equal(servers.length, 1);
        assert.match(server.calls.join(","), ORDER);
        await withTimeout(client.lost.promise, WAIT_MS, "client connectionLost");
        assert.match(client.calls.join(","), ORDER);
        assert.equal(transport.isClosing(), true);
      },
    );
  });

  test("eofReceived returning true keeps the connection half-open so the protocol can still write", async () => {
    let count = 0;
    await withServer(
      (): Protocol => {
        let transport: Transport;
        return {
          connectionMade: (t) => {
            transport = t;
          },
          dataReceived: (data) => {
            count += data.length;
          },
          eofReceived: () => {
            setImmediate(() => {
              transport.write(`counted ${count}`);
              transport.close();
            });
            return true;
          },
          connectionLost: () => {},
        };
      },
      async (_server, port) => {
        const { reader, writer } = await openConnection("127.0.0.1", port);
        writer.write("x".repeat(1000));
        writer.writeEof();
        assert.equal((await readToEof(reader)).toString(), "counted 1000");
        writer.close();
      },
    );
  });

  test("an eofReceived that returns nothing makes the transport close after flushing", async () => {
    const lost = deferred();
    await withServer(
      () => ({
        connectionMade(transport: Transport) {
          transport.write("bye");
        },
        dataReceived() {},
        connectionLost: () => lost.resolve(),
      }),
      async (_server, port) => {
        const { reader, writer } = await openConnection("127.0.0.1", port);
        writer.writeEof();
        assert.equal((await readToEof(reader)).toString(), "bye");
        await withTimeout(lost.promise, WAIT_MS, "server connectionLost");
        writer.close();
      },
    );
  });

  for (const callback of ["connectionMade", "dataReceived", "eofReceived"] as const) {
    test(`a protocol whose ${callback} throws loses only its own connection`, async () => {
      const errors: Error[] = [];
      const lostWith = deferred<Error | undefined>();
      let first = true;
      const faulty = (): Protocol => {
        const fail = (name: string) => {
          if (name === callback) throw new Error(`boom in ${name}`);
        };
        return {
          connectionMade: () => fail("connectionMade"),
          dataReceived: () => fail("dataReceived"),
          eofReceived: () => fail("eofReceived"),
          connectionLost: (error) => lostWith.resolve(error),
        };
      };
      await withServer(
        () => {
          if (!first) return new EchoServer();
          first = false;
          return faulty();
        },
        async (server, port) => {
          const bad = await openConnection("127.0.0.1", port);
          bad.writer.write("boom\n");
          bad.writer.writeEof();
          const outcome = await readToEof(bad.reader).then(
            (data) => `closed after ${data.length} bytes`,
            (error: { code?: string }) => error.code,
          );
          assert.match(String(outcome), /^(closed after 0 bytes|ERR_CONNECTION_RESET)$/);
          const lostError = await withTimeout(lostWith.promise, WAIT_MS, "connectionLost");
          assert.equal(lostError?.message, `boom in ${callback}`);
          assert.equal(errors.length, 1);
          assert.equal(errors[0], lostError);
          assert.match(errors[0]?.stack ?? "", new RegExp(`boom in ${callback}\\n\\s+at `));
          bad.writer.close();

          const good = await openConnection("127.0.0.1", port);
          good.writer.write("still serving");
          good.writer.writeEof();
          assert.equal((await readToEof(good.reader)).toString(), "still serving");
          good.writer.close();
          assert.equal(server.isServing(), true);
        },
        (error) => errors.push(error),
      );
    });
  }
});

describe("pauseReading in connectionMade", () => {
  for (const options of [{}, { maxSessions: 5 }]) {
    test(`holds until resumeReading, with server options ${JSON.stringify(options)}`, async () => {
      const received: string[] = [];
      let transport: Transport | undefined;
      const made = deferred<void>();
      const server = await createServer(
        () => ({
          connectionMade(t: Transport) {
            transport = t;
            t.pauseReading();
            made.resolve();
          },
          dataReceived(data: Buffer) {
            received.push(data.toString());
          },
          connectionLost() {},
        }),
        "127.0.0.1",
        0,
        options,
      );
      try {
        const { writer } = await openConnection("127.0.0.1", serverPort(server));
        await withTimeout(made.promise, WAIT_MS, "connectionMade");
        writer.write("held");
        // Give the bytes time to arrive; a paused transport must not deliver them.
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(received, []);
        assert.equal(transport?.isReading(), false);
        transport?.resumeReading();
        await withTimeout(
          (async () => {
            while (received.join("") !== "held") await new Promise((r) => setTimeout(r, 5));
          })(),
          WAIT_MS,
          "the held data after resumeReading",
        );
        writer.close();
      } finally {
        await shutDown(server);
      }
    });
  }
});
