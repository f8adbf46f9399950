import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import {
  closedPort,
  makeCertificate,
  type RunningServer,
  runCli,
  startHttpServer,
  startHttpsServer,
  startRawServer,
  type TestCertificate,
} from "../helpers/http-fixtures.js";

const HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/plain  \r\nX-Pad: value \t\r\nX-Empty:\r\n\r\n";

describe("asyncnet http-head", () => {
  let raw: Awaited<ReturnType<typeof startRawServer>>;
  let https: RunningServer;
  let http404: RunningServer;
  let certificate: TestCertificate;

  before(async () => {
    certificate = await makeCertificate();
    raw = await startRawServer((socket, request) => {
      if (request.startsWith("HEAD /not-http")) socket.end("hello there\r\n");
      else if (request.startsWith("HEAD /silent")) return;
      else socket.end(HEAD);
    });
    https = await startHttpsServer((_req, res) => {
      res.setHeader("X-Test", "yes");
      res.end("body that HEAD never sends");
    }, certificate);
    http404 = await startHttpServer((_req, res) => {
      res.statusCode = 404;
      res.end("no");
    });
  });

  after(async () => {
    await Promise.all([raw?.close(), https?.close(), http404?.close()]);
    if (certificate !== undefined) await rm(certificate.dir, { recursive: true, force: true });
  });

  test("prints each head line with its prefix, trailing whitespace stripped", async () => {
    const result = await runCli(["http-head", raw.url("/")]);
    assert.equal(result.stderr, "");
    assert.equal(
      result.stdout.toString(),
      "HTTP header> HTTP/1.1 200 OK\n" +
        "HTTP header> Content-Type: text/plain\n" +
        "HTTP header> X-Pad: value\n" +
        "HTTP header> X-Empty:\n",
    );
    assert.equal(result.code, 0);
  });

  test("sends exactly the seed's request, query string included", async () => {
    const before = raw.requests.length;
    const result = await runCli(["http-head", raw.url("/search?q=a%20b&n=1#frag")]);
    assert.equal(result.code, 0);
    assert.equal(
      raw.requests[before],
      `HEAD /search?q=a%20b&n=1 HTTP/1.0\r\nHost: 127.0.0.1:${raw.port}\r\n\r\n`,
    );
  });

  test("works over IPv6 with a bracketed literal", async (t) => {
    let server: Awaited<ReturnType<typeof startRawServer>>;
    try {
      server = await startRawServer((socket) => socket.end(HEAD), "::1");
    } catch {
      t.skip("no IPv6 loopback here");
      return;
    }
    try {
      const result = await runCli(["http-head", server.url("/v6")]);
      assert.equal(result.code, 0);
      assert.match(result.stdout.toString(), /^HTTP header> HTTP\/1\.1 200 OK\n/);
      assert.equal(server.requests[0], `HEAD /v6 HTTP/1.0\r\nHost: [::1]:${server.port}\r\n\r\n`);
    } finally {
      await server.close();
    }
  });

  test("prints an error status's head and exits 0", async () => {
    const result = await runCli(["http-head", http404.url("/missing")]);
    assert.equal(result.code, 0);
    assert.match(result.stdout.toString(), /^HTTP header> HTTP\/1\.1 404 Not Found\n/);
  });

  test("verifies https certificates: a self-signed one fails with exit 5", async () => {
    const result = await runCli(["http-head", https.url("/")]);
    assert.equal(result.code, 5);
    assert.equal(result.stdout.length, 0);
    assert.match(result.stderr, /^http-head: Cannot get https:\/\/127\.0\.0\.1:\d+\/: certificate/);
    assert.match(result.stderr, /--ca-certificate FILE/);
  });

  test("trusts a certificate given with --ca-certificate", async () => {
    const result = await runCli([
      "http-head",
      "--ca-certificate",
      certificate.certPath,
      https.url("/tls"),
    ]);
    assert.equal(result.stderr, "");
    assert.equal(result.code, 0);
    const lines = result.stdout.toString().split("\n");
    assert.equal(lines[0], "HTTP header> HTTP/1.1 200 OK");
    assert.ok(lines.includes("HTTP header> X-Test: yes"));
  });

  test("skips verification with --insecure", async () => {
    const result = await runCli(["http-head", "--insecure", https.url("/")]);
    assert.equal(result.code, 0);
    assert.match(result.stdout.toString(), /^HTTP header> HTTP\/1\.1 200 OK\n/);
  });

  test("a refused connection exits 4", async () => {
    const result = await runCli(["http-head", `http://127.0.0.1:${await closedPort()}/`]);
    assert.equal(result.code, 4);
    assert.equal(result.stdout.length, 0);
    assert.match(
      result.stderr,
      /^http-head: Cannot get http:\/\/127\.0\.0\.1:\d+\/: .*ECONNREFUSED/,
    );
  });

  test("a reply that is not HTTP exits 7", async () => {
    const result = await runCli(["http-head", raw.url("/not-http")]);
    assert.equal(result.code, 7);
    assert.match(result.stderr, /Malformed HTTP status line: 'hello there'/);
  });

  test("-T bounds the wait for a silent server and exits 4", async () => {
    const started = Date.now();
    const result = await runCli(["http-head", "-T", "0.3", raw.url("/silent")]);
    assert.equal(result.code, 4);
    assert.match(result.stderr, /Read timed out: no data for 0\.3 s/);
    assert.ok(Date.now() - started < 10_000);
  });

  test("bad arguments exit 2", async () => {
    for (const args of [[], ["ftp://example.com/"], ["-T", "soon", raw.url("/")], ["a", "b"]]) {
      const result = await runCli(["http-head", ...args]);
      assert.equal(result.code, 2, `args ${JSON.stringify(args)}`);
      assert.match(result.stderr, /^asyncnet http-head: /);
    }
  });
});
