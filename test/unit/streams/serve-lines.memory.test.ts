/**
 * serveLines served by a real Server over in-memory connections
 * (asyncnet/testing), each under every chunking; its lineTimeout at the edge
 * in virtual time. Moved from test/integration/serve-lines.test.ts, which
 * keeps the tests that need a socket.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TimeoutError } from "../../../src/errors.js";
import { timeoutSlack } from "../../../src/protocols/sweeper.js";
import type { LineConnection, LineSession } from "../../../src/streams/line-session.js";
import { serveLines, type ServeLinesOptions } from "../../../src/streams/serve-lines.js";
import { ALL_CHUNKINGS, chunkingName } from "../../../src/testing/chunking.js";
import { run, script } from "../../../src/testing/script.js";
import { serveInMemory } from "../../../src/testing/serve-in-memory.js";
import { createVirtualClock } from "../../../src/testing/virtual-clock.js";

/** `up WORD` → `WORD` upper-cased; `slow WORD` the same, later; `quiet` nothing; `bye` `BYE` and close; `say TEXT` `* TEXT` to the others. */
function shouting(room: Set<LineConnection>, hooks: Partial<LineSession> = {}) {
  return (conn: LineConnection): LineSession => {
    room.add(conn);
    return {
      welcome: "shout v1\r\n",
      onLine(line) {
        const [command, ...rest] = line.toString("latin1").trimEnd().split(" ");
        const word = rest.join(" ").toUpperCase();
        switch (command) {
          case "up":
            return `${word}\r\n`;
          case "slow":
            return new Promise((resolve) => setTimeout(resolve, 5, `${word}\r\n`));
          case "quiet":
            return undefined;
          case "bye":
            conn.close();
            return "BYE\r\n";
          case "say":
            for (const other of room) if (other !== conn) other.write(`* ${rest.join(" ")}\r\n`);
            return "said\r\n";
          default:
            return "?\r\n";
        }
      },
      onEnd: () => room.delete(conn),
      ...hooks,
    };
  };
}

function serve(
  options: ServeLinesOptions = {},
  hooks: Partial<LineSession> = {},
  room = new Set<LineConnection>(),
) {
  const errors: Error[] = [];
  const server = serveInMemory(serveLines(shouting(room, hooks), options), {
    clock: options.clock,
    onError: (error) => errors.push(error),
  });
  return { server, errors };
}

describe("serveLines in memory", () => {
  for (const chunking of ALL_CHUNKINGS) {
    const cut = chunkingName(chunking);

    test(`welcome first; async replies keep their place, line by line and pipelined; cut ${cut}`, async () => {
      const { server, errors } = serve();
      const peer = script()
        .expect("shout v1\r\n")
        .send("up a\n")
        .expect("A\r\n")
        .send("slow b\nup c\n")
        .expect("B\r\nC\r\n")
        .send("up d\nslow e\nslow f\nquiet\nup g\n")
        .expect("D\r\nE\r\nF\r\nG\r\n")
        .send("bye\nup never\n")
        .expect("BYE\r\n")
        .expectEof();
      await run(peer, await server.connect({ chunking }));
      await server.shutdown();
      assert.deepEqual(errors, []);
    });

    test(`a too-long line gets the default reply, is discarded whole, and the connection goes on; cut ${cut}`, async () => {
      const { server } = serve({ maxLine: 10 });
      const peer = script()
        .send(`up ${"x".repeat(30)}\nup ok\n`)
        .expect("shout v1\r\nERR line too long (more than 10 bytes)\r\nOK\r\n")
        .eof()
        .expectEof();
      await run(peer, await server.connect({ chunking }));
      await server.shutdown();
    });

    test(`conn.write sends unprompted, to another connection, in order with its replies; cut ${cut}`, async () => {
      const { server } = serve();
      const [a, b] = [await server.connect({ chunking }), await server.connect({ chunking })];
      const listener = run(
        script()
          .expect("shout v1\r\n* hello there\r\n")
          .send("up next\n")
          .expect("NEXT\r\n")
          .eof()
          .expectEof(),
        b,
      );
      await run(
        script()
          .expect("shout v1\r\n")
          .send("say hello there\n")
          .expect("said\r\n")
          .eof()
          .expectEof(),
        a,
      );
      await listener;
      await server.shutdown();
    });
  }

  for (const [name, hooks, last] of [
    ["the default reply", {}, "ERR line not completed within 300 s\r\n"],
    [
      "onLineTimeout's reply",
      { onLineTimeout: (ms: number) => `-SLOW ${ms}\r\n` },
      "-SLOW 300000\r\n",
    ],
  ] as const) {
    test(`a line that outlives a 300 s lineTimeout gets ${name} at T, not before`, async () => {
      const T = 300_000;
      const clock = createVirtualClock();
      const { server, errors } = serve({ lineTimeout: T, clock }, hooks);
      const end = await server.connect();
      const received: Buffer[] = [];
      end.stream.on("data", (data: Buffer) => received.push(data));
      end.stream.write("up a\nup unfinish");
      await clock.advance(T - 1);
      assert.equal(Buffer.concat(received).toString(), "shout v1\r\nA\r\n");
      assert.equal(server.connections, 1, "still open 1 ms before T");
      await clock.advance(1 + timeoutSlack(T));
      assert.equal(Buffer.concat(received).toString(), `shout v1\r\nA\r\n${last}`);
      assert.equal(end.stream.readableEnded, true, "the server closed its side by T + slack");
      end.eof();
      const [error] = errors;
      assert.ok(error instanceof TimeoutError, String(error));
      assert.equal(error.message, "Connection closed: line not completed within 300 s");
      server.close();
    });
  }
});
