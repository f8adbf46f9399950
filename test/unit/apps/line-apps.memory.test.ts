/**
 * The seed apps' sessions (calculator, line echo) served by a real Server
 * over in-memory connections (asyncnet/testing), under every chunking, and
 * their line timeout at its edge in virtual time.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { calculator } from "../../../src/apps/calculator.js";
import { lineEcho } from "../../../src/apps/line-echo.js";
import type { LineAppOptions } from "../../../src/apps/line-app.js";
import { timeoutSlack } from "../../../src/protocols/sweeper.js";
import type { StreamReader } from "../../../src/streams/stream-reader.js";
import type { StreamWriter } from "../../../src/streams/stream-writer.js";
import { ALL_CHUNKINGS, chunkingName } from "../../../src/testing/chunking.js";
import { run, script } from "../../../src/testing/script.js";
import { serveInMemory } from "../../../src/testing/serve-in-memory.js";
import { createVirtualClock } from "../../../src/testing/virtual-clock.js";
import { WAIT_MS } from "../../helpers/net.js";
import { withTimeout } from "../../helpers/with-timeout.js";
import { recordingLogger } from "./fakes.js";

type App = (
  reader: StreamReader,
  writer: StreamWriter,
  options: LineAppOptions,
) => Promise<unknown>;

function serveApp(app: App, options: Partial<LineAppOptions> = {}, onError?: (e: Error) => void) {
  const { logger } = recordingLogger("info");
  const appOptions = { logger, limit: 64, ...options };
  return serveInMemory((reader, writer) => app(reader, writer, appOptions), {
    clock: options.clock,
    onError: onError ?? ((error) => assert.fail(error)),
  });
}

const WELCOME = "<welcome: starting in sum mode>\n";

describe("calculator over serveInMemory", () => {
  for (const chunking of ALL_CHUNKINGS) {
    test(`a session, cut ${chunkingName(chunking)}`, async () => {
      const server = serveApp(calculator as App);
      const peer = script()
        .expect(WELCOME)
        .send("1,2,3\r\n")
        .expect("Sum of input numbers: '6'\r\n")
        .send("product\n2, 3 ,4\n")
        .expect("<switching to product mode>\r\nProduct of input numbers: '24'\r\n")
        .send("hello\n")
        .expect("ERROR. Enter only integers separated by commas\n")
        .send(`${"1,".repeat(40)}1\n`)
        .expect("ERROR. Line too long (more than 64 bytes)\r\n")
        .send("quit\n")
        .expect("connection closed\r\n")
        .expectEof();
      await run(peer, await server.connect({ chunking }));
      await withTimeout(server.shutdown(), WAIT_MS, "shutdown");
    });
  }
});

describe("line echo over serveInMemory", () => {
  for (const chunking of ALL_CHUNKINGS) {
    test(`a session, cut ${chunkingName(chunking)}`, async () => {
      const server = serveApp(lineEcho as App);
      const peer = script()
        .send("hello\r\n")
        .expect("Echoed: 'hello'\r\n")
        .send(Buffer.from([0xff, 0x0a]))
        .expect("ERROR. Input is not valid UTF-8\r\n")
        .send("quit\r\n")
        .expect("connection closed\r\n")
        .expectEof();
      await run(peer, await server.connect({ chunking }));
      await withTimeout(server.shutdown(), WAIT_MS, "shutdown");
    });
  }

  test("a line that outlives lineTimeout: not cut 1 ms before, cut by T + slack", async () => {
    const T = 30_000;
    const clock = createVirtualClock();
    const errors: Error[] = [];
    const server = serveApp(lineEcho as App, { lineTimeout: T, clock }, (e) => errors.push(e));
    const end = await server.connect();
    const received: Buffer[] = [];
    end.stream.on("data", (d: Buffer) => received.push(d));
    end.stream.write("half a li");
    await clock.advance(T - 1);
    assert.equal(Buffer.concat(received).length, 0);
    assert.equal(server.connections, 1, "still open 1 ms before T");
    await clock.advance(1 + timeoutSlack(T));
    assert.equal(Buffer.concat(received).toString(), "ERROR. Line not completed within 30 s\r\n");
    assert.equal(server.connections, 0);
    assert.equal(errors[0]?.name, "TimeoutError");
    server.close();
  });
});
