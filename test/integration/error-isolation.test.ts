import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Transport } from "../../src/protocols/transport.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { type ConnectionHandler, startServer } from "../../src/streams/start-server.js";
import type { StreamReader } from "../../src/streams/stream-reader.js";
import type { StreamWriter } from "../../src/streams/stream-writer.js";
import { WAIT_MS } from "../helpers/net.js";
import { readToEof, serverPort, shutDown } from "../helpers/servers.js";
import { waitFor } from "../helpers/with-timeout.js";

/** Echoes lines; the line `boom` makes it fail, as the seed 001 handler. */
async function boomOnLine(reader: StreamReader, writer: StreamWriter): Promise<void> {
  for await (const line of reader) {
    if (line.toString() === "boom\n") throw new Error("boom: handler failed");
    writer.write(line);
    await writer.drain();
  }
}

/** Throws synchronously, before any await, for the first connection only. */
function throwsAtOnceFirst(): ConnectionHandler {
  let first = true;
  return (reader, writer) => {
    if (first) {
      first = false;
      throw new Error("boom: handler failed");
    }
    return boomOnLine(reader, writer);
  };
}

/** What a client sees when it sends `lines` and reads to the end. */
async function exchange(port: number, lines: string): Promise<string> {
  const { reader, writer } = await openConnection("127.0.0.1", port);
  writer.write(lines);
  writer.writeEof();
  try {
    return (await readToEof(reader)).toString();
  } catch (error) {
    return `error ${(error as { code?: string }).code}`;
  } finally {
    writer.close();
  }
}

describe("error isolation (seed 001)", () => {
  const cases: [string, () => ConnectionHandler, string][] = [
    ["an async handler that rejects on the line boom", () => boomOnLine, "hello\n"],
    ["a handler that throws synchronously", throwsAtOnceFirst, ""],
  ];
  for (const [what, makeHandler, repliedFirst] of cases) {
    test(`${what} closes only its own connection and reports the error with its stack`, async () => {
      const reported: [Error, Transport | undefined][] = [];
      const server = await startServer(makeHandler(), "127.0.0.1", 0, {
        onError: (error, transport) => reported.push([error, transport]),
      });
      try {
        const port = serverPort(server);
        const first = await exchange(port, "hello\nboom\nnever echoed\n");
        assert.equal(first, repliedFirst);
        await waitFor(() => reported.length === 1, WAIT_MS, "the error report");
        const [error, transport] = reported[0] as [Error, Transport | undefined];
        assert.equal(error.message, "boom: handler failed");
        assert.match(error.stack ?? "", /^Error: boom: handler failed\n\s+at /);
        assert.ok(transport !== undefined);
        assert.ok(server.isServing());

        assert.equal(await exchange(port, "one\ntwo\n"), "one\ntwo\n");
        assert.equal(reported.length, 1);
      } finally {
        await shutDown(server);
      }
    });
  }

  test("a line over the reader's limit closes that connection only and is reported", async () => {
    const reported: Error[] = [];
    const server = await startServer(boomOnLine, "127.0.0.1", 0, {
      limit: 16,
      onError: (error) => reported.push(error),
    });
    try {
      const port = serverPort(server);
      const first = await exchange(port, `short\n${"x".repeat(100)}\nafter\n`);
      assert.equal(first, "short\n");
      await waitFor(() => reported.length === 1, WAIT_MS, "the error report");
      assert.equal(reported[0]?.name, "LimitOverrunError");
      assert.equal((reported[0] as { code?: string }).code, "ERR_LIMIT_OVERRUN");
      assert.equal(reported[0]?.message, "Cannot read line: exceeded limit of 16 bytes");
      assert.equal(await exchange(port, "fine\n"), "fine\n");
    } finally {
      await shutDown(server);
    }
  });

  test("a handler rejecting with a non-Error is reported as an Error", async () => {
    const reported: Error[] = [];
    const server = await startServer(() => Promise.reject("plain string"), "127.0.0.1", 0, {
      onError: (error) => reported.push(error),
    });
    try {
      assert.equal(await exchange(serverPort(server), "x"), "");
      await waitFor(() => reported.length === 1, WAIT_MS, "the error report");
      assert.ok(reported[0] instanceof Error);
      assert.equal(reported[0]?.message, "plain string");
    } finally {
      await shutDown(server);
    }
  });

  test("without onError the error goes to stderr with the peer and the stack", async () => {
    const server = await startServer(boomOnLine, "127.0.0.1", 0);
    const written: string[] = [];
    const original = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      assert.equal(await exchange(serverPort(server), "boom\n"), "");
      await waitFor(() => written.length > 0, WAIT_MS, "stderr output");
    } finally {
      process.stderr.write = original;
      await shutDown(server);
    }
    assert.match(
      written.join(""),
      /^asyncnet: error in connection \(peer 127\.0\.0\.1 port \d+\): Error: boom: handler failed\n\s+at /,
    );
  });
});
