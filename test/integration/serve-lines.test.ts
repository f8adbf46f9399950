import assert from "node:assert/strict";
import type net from "node:net";
import { after, describe, test } from "node:test";
import type { Server } from "../../src/protocols/server.js";
import type { LineConnection, LineSession } from "../../src/streams/line-session.js";
import { serveLines, type ServeLinesOptions } from "../../src/streams/serve-lines.js";
import { openConnection } from "../../src/streams/open-connection.js";
import { startServer } from "../../src/streams/start-server.js";
import { rawConnect, rawServer, readToClose, portOf, WAIT_MS } from "../helpers/net.js";
import { deferred, serverPort, shutDown } from "../helpers/servers.js";
import { withTimeout } from "../helpers/with-timeout.js";

/**
 * The test's own protocol: `up WORD` answers `WORD` upper-cased; `slow WORD`
 * answers the same after a real delay (a promise); `quiet` answers nothing;
 * `bye` answers `BYE` and closes; `say TEXT` sends `* TEXT` to every other
 * connection, unprompted.
 */
function shouting(
  room: Set<LineConnection>,
  hooks: Partial<LineSession> = {},
  onSlow?: (conn: LineConnection) => void,
) {
  return (conn: LineConnection): LineSession => {
    room.add(conn);
    return {
      welcome: "shout v1\r\n",
      onLine(line) {
        const [command, ...rest] = line.toString("latin1").trimEnd().split(" ");
        const word = rest.join(" ");
        switch (command) {
          case "up":
            return `${word.toUpperCase()}\r\n`;
          case "slow":
            onSlow?.(conn);
            return new Promise((resolve) => setTimeout(resolve, 30, `${word.toUpperCase()}\r\n`));
          case "quiet":
            return undefined;
          case "bye":
            conn.close();
            return "BYE\r\n";
          case "say":
            for (const other of room) if (other !== conn) other.write(`* ${word}\r\n`);
            return "said\r\n";
          default:
            return `?\r\n`;
        }
      },
      onEnd() {
        room.delete(conn);
      },
      ...hooks,
    };
  };
}

/** A raw client that keeps what it received and can wait for a given ending. */
async function client(port: number) {
  const socket = await rawConnect(port);
  let data = "";
  socket.on("data", (chunk: Buffer) => {
    data += chunk.toString("latin1");
  });
  const until = (text: string): Promise<string> =>
    withTimeout(
      new Promise<string>((resolve) => {
        const check = () => {
          if (data.includes(text)) {
            socket.off("data", check);
            resolve(data);
          }
        };
        socket.on("data", check);
        check();
      }),
      WAIT_MS,
      `${JSON.stringify(text)} (got ${JSON.stringify(data)})`,
    );
  return { socket, until, data: () => data };
}

const servers: Server[] = [];
async function serve(
  room: Set<LineConnection>,
  options: ServeLinesOptions = {},
  hooks: Partial<LineSession> = {},
  onError?: (error: Error) => void,
  onSlow?: (conn: LineConnection) => void,
): Promise<number> {
  const handler = serveLines(shouting(room, hooks, onSlow), options);
  const server = await startServer(handler, "127.0.0.1", 0, {
    onError: onError ?? ((error) => assert.fail(error)),
  });
  servers.push(server);
  return serverPort(server);
}

after(async () => {
  for (const server of servers) await shutDown(server);
});

// The tests that need no socket are in test/unit/streams/serve-lines.memory.test.ts, over asyncnet/testing.
describe("serveLines on loopback", () => {
  test("conn.close() after an async reply waits for it", async () => {
    const slow = deferred<LineConnection>();
    const socket = await rawConnect(await serve(new Set(), {}, {}, undefined, slow.resolve));
    const received = readToClose(socket);
    socket.write("slow late\nup never\n");
    // Close from outside the session, while its reply is pending.
    (await withTimeout(slow.promise, WAIT_MS, "the slow line")).close();
    const { data } = await received;
    assert.equal(data.toString("latin1"), "shout v1\r\nLATE\r\n");
  });

  test("conn.close() while the loop waits for a line ends the connection", async () => {
    const room = new Set<LineConnection>();
    const c = await client(await serve(room));
    const received = readToClose(c.socket);
    await c.until("shout v1\r\n");
    c.socket.write("up one\npart");
    await c.until("ONE\r\n");
    for (const conn of room) conn.close();
    const { data } = await received;
    assert.equal(data.toString("latin1"), "shout v1\r\nONE\r\n");
  });

  test("onLineTooLong chooses the reply to a too-long line", async () => {
    const hooks: Partial<LineSession> = { onLineTooLong: (max) => `-TOO LONG ${max}\r\n` };
    const c = await client(await serve(new Set(), { maxLine: 10 }, hooks));
    c.socket.write(`up ${"x".repeat(10)}`);
    c.socket.write(`${"y".repeat(20)}\nup ok\n`);
    assert.equal(await c.until("OK\r\n"), "shout v1\r\n-TOO LONG 10\r\nOK\r\n");
    c.socket.destroy();
  });

  test("serves an openConnection pair, and gives the connection's facts", async () => {
    let peer: net.Socket | undefined;
    const raw = await rawServer((socket) => {
      peer = socket;
      socket.write("up from-server\n");
      socket.end();
    });
    try {
      const { reader, writer } = await openConnection("127.0.0.1", portOf(raw));
      let seen: unknown;
      const end = await withTimeout(
        serveLines((conn) => {
          seen = conn.info;
          return shouting(new Set())(conn);
        })(reader, writer),
        WAIT_MS,
        "the client session",
      );
      assert.equal(end, "eof");
      const { peer: remote, local } = seen as { peer: net.AddressInfo; local: net.AddressInfo };
      assert.equal(remote.port, portOf(raw));
      assert.equal(local.port, peer?.remotePort);
      writer.close();
    } finally {
      raw.close();
    }
  });
});
