import assert from "node:assert/strict";
import type net from "node:net";
import { describe, test } from "node:test";
import { buildProxyHeaderV2 } from "../../src/framing/proxy-header-build-v2.js";
import { type ProxyHeaderOption } from "../../src/protocols/create-connection.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { closedPort, portOf, rawServer } from "../helpers/net.js";
import { withTimeout } from "../helpers/with-timeout.js";

/** What a raw server received on its first connection until the client's EOF. */
async function firstBytes(send: (port: number) => Promise<void>): Promise<Buffer> {
  let resolveData!: (data: Buffer) => void;
  const data = new Promise<Buffer>((resolve) => (resolveData = resolve));
  const server = await rawServer((socket: net.Socket) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => {
      resolveData(Buffer.concat(chunks));
      socket.end();
    });
  });
  try {
    await send(portOf(server));
    return await withTimeout(data, 10_000, "the raw server's bytes");
  } finally {
    server.close();
  }
}

describe("createConnection/openConnection proxyHeader", () => {
  const source = { address: "192.0.2.5", port: 1234 };
  const destination = { address: "192.0.2.1", port: 80 };

  for (const [name, option, expected] of [
    [
      "v1 from endpoints",
      { version: 1, source, destination },
      "PROXY TCP4 192.0.2.5 192.0.2.1 1234 80\r\n",
    ],
    ["raw bytes", Buffer.from("PROXY UNKNOWN\r\n"), "PROXY UNKNOWN\r\n"],
  ] as [string, ProxyHeaderOption, string][]) {
    test(`${name}: sent before any other byte`, async () => {
      const got = await firstBytes(async (port) => {
        const { writer } = await openConnection("127.0.0.1", port, { proxyHeader: option });
        writer.write("data");
        writer.close();
      });
      assert.equal(got.toString("latin1"), `${expected}data`);
    });
  }

  test("v2 from options: the builder's bytes first", async () => {
    const got = await firstBytes(async (port) => {
      const { writer } = await openConnection("127.0.0.1", port, {
        proxyHeader: { version: 2, command: "local" },
      });
      writer.close();
    });
    assert.equal(got.length, 16);
    assert.equal(got[12], 0x20, "v2 LOCAL");
    assert.deepEqual(got, buildProxyHeaderV2({ command: "local" }));
  });

  test("a bad header or tls is refused before any socket opens", async () => {
    const port = await closedPort();
    await assert.rejects(
      openConnection("127.0.0.1", port, { proxyHeader: { version: 3 } as never }),
      (error: Error) => error instanceof TypeError && /version must be 1 or 2/.test(error.message),
    );
    await assert.rejects(
      openConnection("127.0.0.1", port, {
        proxyHeader: { version: 1, source: { address: "nope", port: 1 }, destination },
      }),
      RangeError,
    );
    await assert.rejects(
      openConnection("127.0.0.1", port, {
        tls: true,
        proxyHeader: { version: 1, source, destination },
      }),
      (error: Error) =>
        error instanceof TypeError && /cannot be combined with tls/.test(error.message),
    );
  });
});
