import assert from "node:assert/strict";
import type net from "node:net";
import { describe, test } from "node:test";
import { serveUntilSignal } from "../../../src/cli/serve.js";
import { createServer } from "../../../src/protocols/create-server.js";
import { timeoutSlack } from "../../../src/protocols/sweeper.js";
import { rawConnect, WAIT_MS } from "../../helpers/net.js";
import { serverPort, shutDown } from "../../helpers/servers.js";
import { VirtualClock } from "../../helpers/virtual-clock.js";
import { waitFor, withTimeout } from "../../helpers/with-timeout.js";
import { recordingLogger } from "../apps/fakes.js";

describe("serveUntilSignal grace on a virtual clock", () => {
  test("a busy connection is aborted no earlier than grace − 10 %, and by grace + slack", async () => {
    const grace = 10_000;
    const clock = new VirtualClock();
    // A connection that never ends by itself.
    const server = await createServer(
      () => ({
        connectionMade() {},
        dataReceived() {},
        connectionLost() {},
        // Asked to finish, it goes on: only the grace ends it.
        shutdownRequested() {},
      }),
      "127.0.0.1",
      0,
      { clock },
    );
    let socket: net.Socket | undefined;
    try {
      socket = await rawConnect(serverPort(server));
      socket.on("error", () => {});
      await waitFor(() => server.connections === 1, WAIT_MS, "the connection");
      const { logger, lines } = recordingLogger("info");
      const shutdown = new AbortController();
      const abort = new AbortController();
      let exit: number | undefined;
      const serving = serveUntilSignal(
        server,
        {
          logger,
          shutdown: shutdown.signal,
          abort: abort.signal,
          stdout: process.stdout,
          stderr: process.stderr,
          stderrIsTTY: false,
        },
        { grace },
      ).then((code) => {
        exit = code;
      });
      shutdown.abort();
      await clock.advance(0.9 * grace);
      assert.equal(exit, undefined, "still waiting at grace − 10 %");
      assert.equal(server.connections, 1);
      await clock.advance(0.1 * grace + timeoutSlack(grace));
      await withTimeout(serving, WAIT_MS, "serveUntilSignal to end");
      assert.equal(exit, 0);
      assert.ok(
        lines.some((line) => line.includes("grace period of 10 s over: aborted 1 connection(s)")),
        lines.join("\n"),
      );
    } finally {
      socket?.destroy();
      await shutDown(server);
    }
  });
});
