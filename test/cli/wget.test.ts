import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import type http from "node:http";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { wget } from "../../src/apps/wget.js";
import {
  closedPort,
  makeCertificate,
  makeTempDir,
  type RunningServer,
  runCli,
  startHttpServer,
  startHttpsServer,
  startRawServer,
  type TestCertificate,
} from "../helpers/http-fixtures.js";

const MiB = 1024 * 1024;
const BLOCK = randomBytes(MiB);
const BIG = 20 * MiB;
const BIG_SHA256 = (() => {
  const hash = createHash("sha256");
  for (let i = 0; i < BIG / MiB; i++) hash.update(BLOCK);
  return hash.digest("hex");
})();

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Writes 20 MiB with backpressure; with `length`, announces it. */
async function sendBig(res: http.ServerResponse, length: boolean): Promise<void> {
  res.writeHead(200, length ? { "Content-Length": BIG } : {});
  for (let i = 0; i < BIG / MiB; i++) {
    if (!res.write(BLOCK)) await new Promise((resolve) => res.once("drain", resolve));
  }
  res.end();
}

/** Ends `res` with `body` and its Content-Length (Node omits it for HTTP/1.0 requests). */
function send(res: http.ServerResponse, body: string): void {
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(body);
}

const routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void> = {
  "/": (_req, res) => send(res, "hello\n"),
  "/files/data.txt": (req, res) => res.end(`you asked for ${req.url}\n`),
  "/final": (_req, res) => send(res, "final body\n"),
  "/relative": (_req, res) => res.writeHead(302, { Location: "final" }).end(),
  "/see-other": (_req, res) => res.writeHead(303, { Location: "/relative" }).end(),
  "/redirect": (req, res) => {
    const to = new URL(req.url ?? "/", "http://x").searchParams.get("to") ?? "/";
    res.writeHead(301, { Location: to }).end();
  },
  "/loop": (_req, res) => res.writeHead(302, { Location: "/loop" }).end(),
  "/missing": (_req, res) => res.writeHead(404, { "Content-Type": "text/plain" }).end("nope\n"),
  "/big": (_req, res) => void sendBig(res, true),
  "/big-until-close": (_req, res) => void sendBig(res, false),
};

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const route = routes[new URL(req.url ?? "/", "http://x").pathname];
  if (route === undefined) res.writeHead(500).end();
  else route(req, res);
}

describe("asyncnet wget", () => {
  let server: RunningServer;
  let https: RunningServer;
  let raw: Awaited<ReturnType<typeof startRawServer>>;
  let certificate: TestCertificate;
  const seen: string[] = [];
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await makeTempDir("asyncnet-wget-");
    dirs.push(dir);
    return dir;
  };

  before(async () => {
    certificate = await makeCertificate();
    server = await startHttpServer((req, res) => {
      seen.push(req.url ?? "");
      handler(req, res);
    });
    https = await startHttpsServer(handler, certificate);
    raw = await startRawServer((socket, request) => {
      if (request.startsWith("GET /truncated ")) {
        socket.end("HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
      } else if (request.startsWith("GET /reset ")) {
        socket.write("HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\n01234", () =>
          setTimeout(() => socket.resetAndDestroy(), 50),
        );
      } else if (request.startsWith("GET /stall ")) {
        socket.write("HTTP/1.0 200 OK\r\n\r\npartial");
      } else {
        socket.end("HTTP/1.0 200 OK\r\nX-Seed: 004\r\n\r\nraw body\r\nto EOF");
      }
    });
  });

  after(async () => {
    await Promise.all([server?.close(), https?.close(), raw?.close()]);
    const all = certificate === undefined ? dirs : [...dirs, certificate.dir];
    await Promise.all(all.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test("saves to index.html, then index.html.1, never overwriting", async () => {
    const cwd = await tempDir();
    const first = await runCli(["wget", server.url("/")], { cwd });
    assert.equal(first.code, 0);
    assert.equal(first.stdout.length, 0);
    assert.match(first.stderr, /^'index\.html' saved \[6\/6\] \(.+B\/s\)\n$/);
    const second = await runCli(["wget", server.url("/")], { cwd });
    assert.equal(second.code, 0);
    assert.match(second.stderr, /^'index\.html\.1' saved \[6\/6\]/);
    assert.deepEqual((await readdir(cwd)).sort(), ["index.html", "index.html.1"]);
    assert.equal(await readFile(join(cwd, "index.html"), "utf8"), "hello\n");
    assert.equal(await readFile(join(cwd, "index.html.1"), "utf8"), "hello\n");
  });

  test("names the file after the last path segment and sends the query", async () => {
    const cwd = await tempDir();
    const result = await runCli(["wget", server.url("/files/data.txt?x=1&y=%20")], { cwd });
    assert.equal(result.code, 0);
    assert.equal(seen.at(-1), "/files/data.txt?x=1&y=%20");
    assert.deepEqual(await readdir(cwd), ["data.txt?x=1&y=%20"]);
    const body = await readFile(join(cwd, "data.txt?x=1&y=%20"), "utf8");
    assert.equal(body, "you asked for /files/data.txt?x=1&y=%20\n");
  });

  test("-O - --save-headers prints the whole response, read to EOF (the seed)", async () => {
    const before = raw.requests.length;
    const result = await runCli(["wget", "-q", "--save-headers", "-O", "-", raw.url("/seed")]);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, "");
    assert.equal(
      result.stdout.toString(),
      "HTTP/1.0 200 OK\r\nX-Seed: 004\r\n\r\nraw body\r\nto EOF",
    );
    assert.equal(raw.requests[before], `GET /seed HTTP/1.0\r\nHost: 127.0.0.1:${raw.port}\r\n\r\n`);
  });

  test("-O FILE writes that file and -S prints the head indented on stderr", async () => {
    const cwd = await tempDir();
    const result = await runCli(["wget", "-S", "-O", "out.txt", server.url("/")], { cwd });
    assert.equal(result.code, 0);
    assert.equal(await readFile(join(cwd, "out.txt"), "utf8"), "hello\n");
    const lines = result.stderr.split("\n");
    assert.equal(lines[0], "  HTTP/1.1 200 OK");
    assert.ok(lines.includes("  Content-Length: 6"));
    assert.match(result.stderr, /\n'out\.txt' saved \[6\/6\]/);
  });

  test("-q writes nothing to stderr, even on failure, but the -S headers", async () => {
    const cwd = await tempDir();
    const ok = await runCli(["wget", "-q", server.url("/")], { cwd });
    assert.equal(ok.code, 0);
    assert.equal(ok.stderr, "");
    const failed = await runCli(["wget", "-q", server.url("/missing")], { cwd });
    assert.equal(failed.code, 8);
    assert.equal(failed.stderr, "");
    const headers = await runCli(["wget", "-q", "-S", "-O", "-", raw.url("/seed")]);
    assert.equal(headers.code, 0);
    assert.equal(
      headers.stderr,
      "  HTTP/1.0 200 OK\n  X-Seed: 004\n",
      "-S prints even with -q, as GNU wget",
    );
  });

  test("follows relative and absolute redirects", async () => {
    const relative = await runCli(["wget", "-O", "-", server.url("/see-other")]);
    assert.equal(relative.code, 0);
    assert.equal(relative.stdout.toString(), "final body\n");
    assert.match(
      relative.stderr,
      /^Location: \/relative \[following\]\nLocation: final \[following\]\nwritten to stdout \[11\/11\]/,
    );
    const absolute = server.url("/final");
    const crossScheme = await runCli([
      "wget",
      "--ca-certificate",
      certificate.certPath,
      "-O",
      "-",
      https.url(`/redirect?to=${encodeURIComponent(absolute)}`),
    ]);
    assert.equal(crossScheme.code, 0, crossScheme.stderr);
    assert.equal(crossScheme.stdout.toString(), "final body\n");
    assert.match(crossScheme.stderr, /^Location: http:\/\/127\.0\.0\.1:\d+\/final \[following\]\n/);
  });

  test("a redirect loop stops after 20 redirects with exit 8", async () => {
    const cwd = await tempDir();
    const before = seen.length;
    const result = await runCli(["wget", server.url("/loop")], { cwd });
    assert.equal(result.code, 8);
    assert.match(result.stderr, /wget: Cannot download .*\/loop: 20 redirections exceeded\n$/);
    assert.equal(seen.length - before, 21);
    assert.deepEqual(await readdir(cwd), []);
  });

  test("streams a 20 MiB body to a file intact", async () => {
    const cwd = await tempDir();
    const result = await runCli(["wget", server.url("/big")], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^'big' saved \[20971520\/20971520\]/);
    assert.equal(sha256(await readFile(join(cwd, "big"))), BIG_SHA256);
  });

  test("streams a 20 MiB body without Content-Length to stdout until EOF", async () => {
    const result = await runCli(["wget", "-q", "-O", "-", server.url("/big-until-close")]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.length, BIG);
    assert.equal(sha256(result.stdout), BIG_SHA256);
  });

  test("a body shorter than its Content-Length exits 4 and keeps the partial file", async () => {
    const cwd = await tempDir();
    const result = await runCli(["wget", raw.url("/truncated")], { cwd });
    assert.equal(result.code, 4);
    assert.match(
      result.stderr,
      /^wget: Cannot download .*\/truncated: Connection closed at byte 10 of 100\n$/,
    );
    assert.equal(await readFile(join(cwd, "truncated"), "utf8"), "0123456789");
  });

  test("a connection reset in the body exits 4", async () => {
    const result = await runCli(["wget", "-O", "-", raw.url("/reset")]);
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /Connection reset by peer/);
  });

  test("-T bounds each read: a stalled body exits 4", async () => {
    const started = Date.now();
    const result = await runCli(["wget", "-T", "0.3", "-O", "-", raw.url("/stall")]);
    assert.equal(result.code, 4);
    assert.equal(result.stdout.toString(), "partial");
    assert.match(result.stderr, /Read timed out: no data for 0\.3 s/);
    assert.ok(Date.now() - started < 10_000);
  });

  test("an error status exits 8 and creates no file", async () => {
    const cwd = await tempDir();
    const result = await runCli(["wget", server.url("/missing")], { cwd });
    assert.equal(result.code, 8);
    assert.match(
      result.stderr,
      /^wget: Cannot download .*\/missing: Server answered 404 Not Found\n$/,
    );
    assert.deepEqual(await readdir(cwd), []);
  });

  test("a refused connection exits 4", async () => {
    const result = await runCli(["wget", "-O", "-", `http://127.0.0.1:${await closedPort()}/`]);
    assert.equal(result.code, 4);
    assert.match(result.stderr, /ECONNREFUSED/);
  });

  test("https: self-signed exits 5; --ca-certificate or --insecure succeed", async () => {
    const url = https.url("/");
    const rejected = await runCli(["wget", "-O", "-", url]);
    assert.equal(rejected.code, 5);
    // Our prefix and hint are stable; the reason between them is the TLS library's
    // ("self signed certificate" on Bun, a --use-system-ca hint added on Node 24).
    assert.match(rejected.stderr, /certificate verification failed: .*--ca-certificate FILE/);
    for (const flags of [
      ["--ca-certificate", certificate.certPath],
      ["--insecure"],
      ["--no-check-certificate"],
    ]) {
      const result = await runCli(["wget", ...flags, "-O", "-", url]);
      assert.equal(result.code, 0, `${flags.join(" ")}: ${result.stderr}`);
      assert.equal(result.stdout.toString(), "hello\n");
    }
  });

  test("downloads from an IPv6 literal URL", async (t) => {
    let v6: RunningServer;
    try {
      v6 = await startHttpServer(handler, "::1");
    } catch {
      t.skip("no IPv6 loopback here");
      return;
    }
    try {
      const result = await runCli(["wget", "-q", "-O", "-", v6.url("/final")]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.toString(), "final body\n");
    } finally {
      await v6.close();
    }
  });

  test("draws a progress bar when stderr is a terminal", async () => {
    const stderr = new PassThrough();
    const chunks: Buffer[] = [];
    stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
    const code = await wget({
      url: server.url("/big"),
      output: "-",
      stdout: new PassThrough().resume(),
      stderr,
      stderrIsTTY: true,
      timeout: 30_000,
    });
    assert.equal(code, 0);
    const text = Buffer.concat(chunks).toString();
    assert.match(text, /^\r-\s+\d+%\[/);
    assert.match(
      text,
      /\r-\s+100%\[=+>\]\s+20\.0M\s+\S+B\/s\s+in \S+s\s*\nwritten to stdout \[20971520\/20971520\]/,
    );
  });
});
