/**
 * wget and http-head against hostile local servers: connections held open
 * after a complete response, conflicting lengths, chunked bodies in answer
 * to an HTTP/1.0 request, interim 1xx responses, 204/304, unwritable file
 * names, and a slow stdout pipe.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import type net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  clientGoneAfterEof,
  makeTempDir,
  runCli,
  runCliSlowStdout,
  startRawServer,
} from "../helpers/http-fixtures.js";

// A client that lingers keeps its socket LINGER_MS (2 s) after its FIN; one that
// closes resets the next byte at once. Half the linger tells them apart with room.
const GONE_WITHIN_MS = 1000;

type Reply = (socket: net.Socket) => void;

/** Writes `pieces` one at a time, 10 ms apart, so they arrive as separate reads. */
function trickle(
  socket: net.Socket,
  pieces: readonly (string | Buffer)[],
  then?: () => void,
): void {
  const [first, ...others] = pieces;
  if (first === undefined) {
    then?.();
    return;
  }
  socket.write(first, () => setTimeout(() => trickle(socket, others, then), 10));
}

const BIG = Buffer.alloc(1024 * 1024, "a");

const routes: Record<string, Reply> = {
  // A complete body, then the connection held open (nothing more, no EOF).
  "/held": (socket) => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
  "/held-head": (socket) => socket.write("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n"),
  "/stall": (socket) => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"),
  "/conflict": (socket) =>
    socket.end("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 11\r\n\r\nhello world"),
  "/same-list": (socket) =>
    socket.end("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello world"),
  "/same-twice": (socket) =>
    socket.end("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello world"),
  // Chunked in answer to an HTTP/1.0 request, with a Content-Length that it overrides,
  // size lines split, an extension and a trailer; then held open: the last chunk ends it.
  "/chunked": (socket) =>
    trickle(socket, [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
      "5\r",
      "\nhel",
      "lo\r\n0",
      "f;x=y\r\n, chunked wor",
      "ld\r\n0\r\nX-T",
      "railer: 1\r\n\r\n",
    ]),
  "/chunked-truncated": (socket) =>
    trickle(
      socket,
      ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\n", "9\r\nabc"],
      () => socket.end(),
    ),
  "/chunked-malformed": (socket) =>
    trickle(socket, [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
      "zz\r\nabc",
    ]),
  "/continue": (socket) =>
    trickle(socket, [
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX-Step: 1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody",
    ]),
  "/no-content": (socket) => socket.write("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"),
  "/not-modified": (socket) =>
    socket.write("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"),
  // The head alone, then the body to the close.
  "/late-body": (socket) =>
    trickle(socket, ["HTTP/1.0 200 OK\r\n\r\n", "late ", "body"], () => socket.end()),
  // 1 MiB, then (once it is out) a small piece: it meets the pipe full, after the drain.
  "/late-tail": (socket) => {
    socket.write("HTTP/1.0 200 OK\r\n\r\n");
    socket.write(BIG, () =>
      setTimeout(() => socket.write("tail", () => setTimeout(() => socket.end(), 100)), 100),
    );
  },
};

describe("wget and http-head against hostile servers", () => {
  let server: Awaited<ReturnType<typeof startRawServer>>;
  const gone = new Map<string, Promise<number>>();
  const goneAfterEof = (path: string): Promise<number> => {
    const promise = gone.get(path);
    assert.ok(promise !== undefined, `no request for ${path}`);
    return promise;
  };
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await makeTempDir("asyncnet-hostile-");
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    server = await startRawServer(
      (socket, request) => {
        const path = request.split(" ")[1] ?? "";
        gone.set(path, clientGoneAfterEof(socket));
        // Routed on the first segment: `/held/NAME` is `/held` saved as NAME.
        const reply = routes[`/${path.split(/[/?]/)[1] ?? ""}`];
        if (reply === undefined) socket.end("HTTP/1.1 500 No Route\r\n\r\n");
        else reply(socket);
      },
      "127.0.0.1",
      { holdOpen: true },
    );
  });

  after(async () => {
    await server?.close();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test("wget closes at once after a complete body on a connection the server holds", async () => {
    const cwd = await tempDir();
    const result = await runCli(["wget", server.url("/held")], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^'held' saved \[5\/5\]/);
    assert.equal(await readFile(join(cwd, "held"), "utf8"), "hello");
    assert.ok((await goneAfterEof("/held")) < GONE_WITHIN_MS, "wget lingered after its FIN");
  });

  test("http-head closes at once after the head on a connection the server holds", async () => {
    const result = await runCli(["http-head", server.url("/held-head")]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), "HTTP header> HTTP/1.1 200 OK\nHTTP header> X-A: 1\n");
    assert.ok((await goneAfterEof("/held-head")) < GONE_WITHIN_MS, "http-head lingered");
  });

  test("wget -T: a stalled body exits 4 and the close after it does not linger", async () => {
    const result = await runCli(["wget", "-T", "0.3", "-O", "-", server.url("/stall")]);
    assert.equal(result.code, 4);
    assert.equal(result.stdout.toString(), "partial");
    assert.match(result.stderr, /Read timed out: no data for 0\.3 s/);
    assert.ok((await goneAfterEof("/stall")) < GONE_WITHIN_MS, "wget lingered after the timeout");
  });

  test("two different Content-Length values exit 7 and save nothing", async () => {
    const cwd = await tempDir();
    const result = await runCli(["wget", server.url("/conflict")], { cwd });
    assert.equal(result.code, 7);
    assert.equal(
      result.stderr,
      `wget: Cannot download ${server.url("/conflict")}: ` +
        "Cannot frame response body: conflicting Content-Length values 5 and 11\n",
    );
    assert.deepEqual(await readdir(cwd), []);
  });

  test("a Content-Length repeated with the same value is used", async () => {
    for (const path of ["/same-list", "/same-twice"]) {
      const result = await runCli(["wget", "-q", "-O", "-", server.url(path)]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.toString(), "hello", path);
    }
  });

  test("a chunked body is decoded, over Content-Length, and ends at its last chunk", async () => {
    const cwd = await tempDir();
    const result = await runCli(["wget", server.url("/chunked")], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^'chunked' saved \[20\] /);
    assert.equal(await readFile(join(cwd, "chunked"), "utf8"), "hello, chunked world");
    assert.ok((await goneAfterEof("/chunked")) < GONE_WITHIN_MS, "wget lingered");
  });

  test("a chunked body cut short exits 4 and keeps what came; a malformed one exits 7", async () => {
    const cwd = await tempDir();
    const cut = await runCli(["wget", server.url("/chunked-truncated")], { cwd });
    assert.equal(cut.code, 4);
    assert.match(cut.stderr, /: Connection closed at byte 8, before the last chunk\n$/);
    assert.equal(await readFile(join(cwd, "chunked-truncated"), "utf8"), "helloabc");
    const malformed = await runCli(["wget", "-q", "-O", "-", server.url("/chunked-malformed")]);
    assert.equal(malformed.code, 7);
    assert.equal(malformed.stdout.toString(), "hello");
  });

  test("wget skips interim 1xx responses; -S shows them", async () => {
    const result = await runCli(["wget", "-S", "-O", "-", server.url("/continue")]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), "body");
    assert.match(
      result.stderr,
      /^ {2}HTTP\/1\.1 100 Continue\n {2}HTTP\/1\.1 102 Processing\n {2}X-Step: 1\n {2}HTTP\/1\.1 200 OK\n {2}Content-Length: 4\n/,
    );
  });

  test("http-head prints the interim heads' lines and the final head's, as the seed", async () => {
    const result = await runCli(["http-head", server.url("/continue")]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout.toString(),
      "HTTP header> HTTP/1.1 100 Continue\n" +
        "HTTP header> HTTP/1.1 102 Processing\n" +
        "HTTP header> X-Step: 1\n" +
        "HTTP header> HTTP/1.1 200 OK\n" +
        "HTTP header> Content-Length: 4\n",
    );
  });

  test("204 exits 0 and creates no file; 304 exits 8 and creates none", async () => {
    const cwd = await tempDir();
    const empty = await runCli(["wget", server.url("/no-content")], { cwd });
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stderr, "Server answered 204 No Content: nothing saved\n");
    const quiet = await runCli(["wget", "-q", "-O", "out", server.url("/no-content")], { cwd });
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, "");
    const notModified = await runCli(["wget", server.url("/not-modified")], { cwd });
    assert.equal(notModified.code, 8);
    assert.match(notModified.stderr, /: Server answered 304 Not Modified\n$/);
    assert.deepEqual(await readdir(cwd), []);
    assert.ok((await goneAfterEof("/no-content")) < GONE_WITHIN_MS, "wget lingered after a 204");
  });

  test("a file name too long for the file system exits 3 (file I/O)", async () => {
    const cwd = await tempDir();
    const long = "n".repeat(300);
    const result = await runCli(["wget", server.url(`/held/${long}`)], { cwd });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /ENAMETOOLONG/);
    const named = await runCli(["wget", "-O", long, server.url("/held")], { cwd });
    assert.equal(named.code, 3, named.stderr);
    assert.deepEqual(await readdir(cwd), []);
  });

  test("a body without Content-Length after a head that came alone is read to the close", async () => {
    const result = await runCli(["wget", "-q", "-O", "-", server.url("/late-body")]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), "late body");
  });

  test("-O - to a pipe read slowly, no Content-Length: every byte, exit 0", async () => {
    const result = await runCliSlowStdout(["wget", "-q", "-O", "-", server.url("/late-tail")], {
      fastBytes: 900_000,
      pauseMs: 1500,
    });
    assert.equal(result.stderr, "");
    assert.equal(result.code, 0);
    const expected = createHash("sha256").update(BIG).update("tail").digest("hex");
    assert.equal(result.stdout.length, BIG.length + 4);
    assert.equal(createHash("sha256").update(result.stdout).digest("hex"), expected);
  });
});
