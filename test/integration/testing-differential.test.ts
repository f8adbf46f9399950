/**
 * Differential: the seed apps give the same bytes over a real loopback socket
 * and over asyncnet/testing's in-memory connections, under every chunking.
 * If the kit's streams behaved unlike a socket (EOF, half-close, ordering,
 * batching), a transcript here would differ.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { calculator } from "../../src/apps/calculator.js";
import { lineEcho } from "../../src/apps/line-echo.js";
import { Logger } from "../../src/apps/logger.js";
import type { Server } from "../../src/protocols/server.js";
import { type ConnectionHandler, startServer } from "../../src/streams/start-server.js";
import { ALL_CHUNKINGS, chunkingName } from "../../src/testing/chunking.js";
import { serveInMemory } from "../../src/testing/serve-in-memory.js";
import { rawConnect, readToClose, WAIT_MS } from "../helpers/net.js";
import { serverPort, shutDown } from "../helpers/servers.js";
import { withTimeout } from "../helpers/with-timeout.js";

const logger = new Logger("diff", { level: "info", write: () => {} });
const APPS: Record<string, ConnectionHandler> = {
  calc: (reader, writer) => calculator(reader, writer, { logger, limit: 64 }),
  "line-echo": (reader, writer) => lineEcho(reader, writer, { logger, limit: 64 }),
};

const b = (text: string) => Buffer.from(text, "latin1");
/** Per app: transcripts of what a client sends, each write one Buffer; the client then half-closes. */
const TRANSCRIPTS: Record<string, Buffer[][]> = {
  calc: [
    [b("1,2\n"), b("product\n3,4\r\n"), b("x\n  7 , 1_000 \nsum\n-1,+2\n"), b("quit\n1,1\n")],
    [b("1,2\n5"), b(",6")],
    [b(`${"9".repeat(70)}\n`), b("2,2\n"), b("\xff\n")],
    [],
  ],
  "line-echo": [
    [b("hello\n"), Buffer.from("héllo\r\n"), Buffer.from([0xff, 0x0a]), b("quit\r\nafter\n")],
    [b("no newline at EOF")],
    [b(`${"x".repeat(100)}\nok\n`)],
  ],
};

const servers: Server[] = [];
after(async () => {
  for (const server of servers) await shutDown(server);
});

async function overLoopback(handler: ConnectionHandler, sends: Buffer[]): Promise<Buffer> {
  const server = await startServer(handler, "127.0.0.1", 0, { onError: () => {} });
  servers.push(server);
  const socket = await rawConnect(serverPort(server), "127.0.0.1", { allowHalfOpen: true });
  const received = readToClose(socket);
  for (const data of sends) socket.write(data);
  socket.end();
  const { data } = await withTimeout(received, WAIT_MS, "the loopback transcript");
  return data;
}

async function inMemory(
  handler: ConnectionHandler,
  sends: Buffer[],
  chunking: (typeof ALL_CHUNKINGS)[number],
): Promise<Buffer> {
  const server = serveInMemory(handler, { onError: () => {} });
  const end = await server.connect({ chunking });
  const chunks: Buffer[] = [];
  end.stream.on("data", (data: Buffer) => chunks.push(data));
  const closed = new Promise((resolve) => end.stream.once("close", resolve));
  for (const data of sends) end.stream.write(data);
  end.stream.end();
  await withTimeout(closed, WAIT_MS, "the in-memory transcript");
  await withTimeout(server.shutdown(), WAIT_MS, "shutdown");
  return Buffer.concat(chunks);
}

describe("the seed apps: loopback and in-memory give the same bytes", () => {
  for (const [app, transcripts] of Object.entries(TRANSCRIPTS)) {
    transcripts.forEach((sends, i) => {
      test(`${app} transcript ${i + 1}, under every chunking`, async () => {
        const handler = APPS[app] as ConnectionHandler;
        const expected = await overLoopback(handler, sends);
        assert.ok(expected.length > 0, "the transcript has replies to compare");
        for (const chunking of ALL_CHUNKINGS) {
          const got = await inMemory(handler, sends, chunking);
          assert.equal(
            got.toString("latin1"),
            expected.toString("latin1"),
            `cut ${chunkingName(chunking)}`,
          );
        }
      });
    });
  }
});
