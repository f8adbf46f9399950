import assert from "node:assert/strict";
import type net from "node:net";
import { after, describe, test } from "node:test";
import { TimeoutError } from "../../src/errors.js";
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

describe("serveLines on loopback", () => {
  test("sends the welcome on connect, before any line", async () => {
    const c = await client(await serve(new Set()));
    assert.equal(await c.until("\r\n"), "shout v1\r\n");
    c.socket.destroy();
  });

  test("an async reply between two synchronous ones keeps its place, line by line", async () => {
    const c = await client(await serve(new Set()));
    await c.until("shout v1\r\n");
    c.socket.write("up a\n");
    await c.until("A\r\n");
    c.socket.write("slow b\n");
    c.socket.write("up c\n");
    assert.equal(await c.until("C\r\n"), "shout v1\r\nA\r\nB\r\nC\r\n");
    c.socket.destroy();
  });

  test("an async reply between two synchronous ones keeps its place when pipelined in one write", async () => {
    const c = await client(await serve(new Set()));
    c.socket.write("up a\nslow b\nup c\nslow d\nslow e\nup f\n");
    assert.equal(await c.until("F\r\n"), "shout v1\r\nA\r\nB\r\nC\r\nD\r\nE\r\nF\r\n");
    c.socket.destroy();
  });

  test("conn.close() sends the reply, then the server closes the connection", async () => {
    const socket = await rawConnect(await serve(new Set()));
    const received = readToClose(socket);
    socket.write("up x\nbye\nup never\n");
    const { data, error } = await received;
    assert.equal(error, undefined);
    assert.equal(data.toString("latin1"), "shout v1\r\nX\r\nBYE\r\n");
  });

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

  test("a too-long line gets the default reply, is discarded whole, and the connection goes on", async () => {
    const c = await client(await serve(new Set(), { maxLine: 10 }));
    c.socket.write(`up ${"x".repeat(30)}\nup ok\n`);
    assert.equal(
      await c.until("OK\r\n"),
      "shout v1\r\nERR line too long (more than 10 bytes)\r\nOK\r\n",
    );
    c.socket.destroy();
  });

  test("onLineTooLong chooses the reply to a too-long line", async () => {
    const hooks: Partial<LineSession> = { onLineTooLong: (max) => `-TOO LONG ${max}\r\n` };
    const c = await client(await serve(new Set(), { maxLine: 10 }, hooks));
    c.socket.write(`up ${"x".repeat(10)}`);
    c.socket.write(`${"y".repeat(20)}\nup ok\n`);
    assert.equal(await c.until("OK\r\n"), "shout v1\r\n-TOO LONG 10\r\nOK\r\n");
    c.socket.destroy();
  });

  for (const [name, hooks, last] of [
    ["the default reply", {}, "ERR line not completed within 0.1 s\r\n"],
    [
      "onLineTimeout's reply",
      { onLineTimeout: (ms: number) => `-SLOW ${ms}\r\n` },
      "-SLOW 100\r\n",
    ],
  ] as const) {
    test(`a line that outlives lineTimeout gets ${name}, then the connection is closed`, async () => {
      const failed = deferred<Error>();
      const port = await serve(new Set(), { lineTimeout: 100 }, hooks, failed.resolve);
      const socket = await rawConnect(port);
      const received = readToClose(socket);
      socket.write("up a\nup unfinish");
      const { data } = await received;
      assert.equal(data.toString("latin1"), `shout v1\r\nA\r\n${last}`);
      const error = await withTimeout(failed.promise, WAIT_MS, "onError");
      assert.ok(error instanceof TimeoutError, String(error));
      assert.equal(error.message, "Connection closed: line not completed within 0.1 s");
    });
  }

  test("conn.write sends unprompted, to another connection", async () => {
    const room = new Set<LineConnection>();
    const port = await serve(room);
    const a = await client(port);
    const b = await client(port);
    await Promise.all([a.until("shout v1\r\n"), b.until("shout v1\r\n")]);
    a.socket.write("say hello there\n");
    assert.equal(await a.until("said\r\n"), "shout v1\r\nsaid\r\n");
    assert.equal(await b.until("* hello there\r\n"), "shout v1\r\n* hello there\r\n");
    // b's own replies still come in order after the unprompted line.
    b.socket.write("up next\n");
    assert.equal(await b.until("NEXT\r\n"), "shout v1\r\n* hello there\r\nNEXT\r\n");
    a.socket.destroy();
    b.socket.destroy();
  });

  test("a reply of undefined sends nothing", async () => {
    const c = await client(await serve(new Set()));
    c.socket.write("quiet\nquiet\nup after\n");
    assert.equal(await c.until("AFTER\r\n"), "shout v1\r\nAFTER\r\n");
    c.socket.write("quiet\n");
    c.socket.write("up last\n");
    assert.equal(await c.until("LAST\r\n"), "shout v1\r\nAFTER\r\nLAST\r\n");
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
