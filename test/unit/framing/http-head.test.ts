import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { HttpParseError, LimitOverrunError } from "../../../src/errors.js";
import { asciiRepr } from "../../../src/framing/ascii-repr.js";
import {
  formatRequest,
  type HttpResponseHead,
  HttpResponseHeadParser,
  parseHttpUrl,
} from "../../../src/framing/http-head.js";

const HEAD =
  "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Empty:\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n";
const BODY = "<html>body</html>";
const EXPECTED: HttpResponseHead = {
  version: "1.1",
  status: 200,
  reason: "OK",
  headers: [
    ["Content-Type", "text/html"],
    ["X-Empty", ""],
    ["Set-Cookie", "a=1"],
    ["Set-Cookie", "b=2"],
  ],
  rawLines: [
    "HTTP/1.1 200 OK",
    "Content-Type: text/html",
    "X-Empty:",
    "Set-Cookie: a=1",
    "Set-Cookie: b=2",
  ],
  rest: Buffer.from(BODY),
};

/** Feeds the chunks in order; returns the head and every byte after it. */
function feedAll(
  chunks: Buffer[],
  options?: { maxHeadBytes?: number },
): { head: HttpResponseHead; body: Buffer } {
  const parser = new HttpResponseHeadParser(options);
  for (let i = 0; i < chunks.length; i++) {
    const head = parser.feed(chunks[i] as Buffer);
    if (head !== undefined)
      return { head, body: Buffer.concat([head.rest, ...chunks.slice(i + 1)]) };
  }
  assert.fail("the head never completed");
}

function parse(text: string, options?: { maxHeadBytes?: number }): HttpResponseHead {
  return feedAll([Buffer.from(text, "latin1")], options).head;
}

function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, p));
    start = p;
  }
  return chunks;
}

describe("HttpResponseHeadParser", () => {
  test("parses a head fed in one chunk and keeps the body bytes as rest", () => {
    assert.deepEqual(parse(HEAD + BODY), EXPECTED);
  });

  test("parses the same head fed one byte at a time", () => {
    const bytes = Buffer.from(HEAD + BODY);
    const chunks = [...bytes].map((b) => Buffer.of(b));
    const { head, body } = feedAll(chunks);
    assert.deepEqual({ ...head, rest: body }, EXPECTED);
  });

  test("parses a head with every CRLF split and empty chunks between", () => {
    const chunks = (HEAD + BODY)
      .split(/(?<=\r)/)
      .flatMap((piece) => [Buffer.alloc(0), Buffer.from(piece)]);
    const { head, body } = feedAll(chunks);
    assert.deepEqual({ ...head, rest: body }, EXPECTED);
  });

  test("any chunking of the same bytes gives the same head and body", () => {
    const bytes = Buffer.from(HEAD + BODY);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), (cuts) => {
        const { head, body } = feedAll(splitAt(bytes, cuts));
        assert.deepEqual({ ...head, rest: body }, EXPECTED);
      }),
    );
  });

  const OK = "HTTP/1.1 200 OK\r\n";
  const table: [name: string, head: string, check: Partial<HttpResponseHead>][] = [
    [
      "accepts bare LF line ends",
      "HTTP/1.0 404 Not Found\nA: b\n\n",
      { version: "1.0", status: 404 },
    ],
    ["accepts mixed line ends", `${OK}A: b\n\r\n`, { rawLines: ["HTTP/1.1 200 OK", "A: b"] }],
    ["accepts a status line without reason", "HTTP/1.1 200\r\n\r\n", { reason: "" }],
    ["accepts an empty reason", "HTTP/1.1 200 \r\n\r\n", { reason: "" }],
    ["keeps spaces inside the reason", "HTTP/1.1 500 A  B \r\n\r\n", { reason: "A  B " }],
    ["accepts a head with no headers", `${OK}\r\n`, { headers: [], rawLines: ["HTTP/1.1 200 OK"] }],
    [
      "trims spaces and tabs around values",
      `${OK}A:  \t x y \t\r\n\r\n`,
      { headers: [["A", "x y"]] },
    ],
    [
      "keeps the case of header names",
      `${OK}cOnTeNt-LeNgTh: 0\r\n\r\n`,
      { headers: [["cOnTeNt-LeNgTh", "0"]] },
    ],
    ["decodes obs-text as latin1", `${OK}X: caf\xe9\r\n\r\n`, { headers: [["X", "caf\xe9"]] }],
    [
      "joins a folded line to the value before it",
      `${OK}X: a\r\n  b c \r\n\tz\r\n\r\n`,
      { headers: [["X", "a b c z"]] },
    ],
    [
      "keeps folded lines apart in rawLines",
      `${OK}X: a\r\n  b\r\n\r\n`,
      { rawLines: ["HTTP/1.1 200 OK", "X: a", "  b"] },
    ],
    ["accepts any HTTP/1.N version", "HTTP/1.9 200 OK\r\n\r\n", { version: "1.9" }],
    ["accepts any three-digit status", "HTTP/1.1 999 Odd\r\n\r\n", { status: 999 }],
    ["leaves an empty rest when the head ends the chunk", `${OK}\r\n`, { rest: Buffer.alloc(0) }],
  ];
  for (const [name, head, check] of table) {
    test(name, () => {
      const parsed = parse(head);
      for (const [key, value] of Object.entries(check)) {
        assert.deepEqual(parsed[key as keyof HttpResponseHead], value, key);
      }
    });
  }

  const malformed: [name: string, head: string, kind: "status" | "header", line: string][] = [
    ["an empty first line", "\r\n\r\n", "status", ""],
    ["a peer that is not HTTP", "SSH-2.0-OpenSSH_9.6\r\n", "status", "SSH-2.0-OpenSSH_9.6"],
    ["HTTP/2 in a status line", "HTTP/2 200\r\n\r\n", "status", "HTTP/2 200"],
    ["a two-digit status", "HTTP/1.1 20 OK\r\n\r\n", "status", "HTTP/1.1 20 OK"],
    ["two spaces before the status", "HTTP/1.1  200 OK\r\n", "status", "HTTP/1.1  200 OK"],
    ["lower-case http", "http/1.1 200 OK\r\n", "status", "http/1.1 200 OK"],
    ["a NUL in the reason", "HTTP/1.1 200 O\0K\r\n", "status", "HTTP/1.1 200 O\0K"],
    ["a header without colon", `${OK}NoColon\r\n`, "header", "NoColon"],
    ["a space in a header name", `${OK}Bad Name: x\r\n`, "header", "Bad Name: x"],
    ["a space before the colon", `${OK}Name : x\r\n`, "header", "Name : x"],
    ["an empty header name", `${OK}: x\r\n`, "header", ": x"],
    ["a bare CR inside a header", `${OK}X: a\rb\r\n`, "header", "X: a\rb"],
    ["a folded line before any header", `${OK} x\r\n`, "header", " x"],
  ];
  for (const [name, head, kind, line] of malformed) {
    test(`rejects ${name}`, () => {
      const parser = new HttpResponseHeadParser();
      assert.throws(
        () => parser.feed(Buffer.from(head, "latin1")),
        (error: unknown) => {
          assert.ok(error instanceof HttpParseError);
          assert.ok(error instanceof SyntaxError);
          assert.equal(error.code, "ERR_HTTP_PARSE");
          assert.equal(error.message, `Malformed HTTP ${kind} line: ${asciiRepr(line)}`);
          assert.equal(error.line, line);
          return true;
        },
      );
    });
  }

  test("names a bad line in the message as Python's ascii() shows it", () => {
    assert.throws(() => new HttpResponseHeadParser().feed(Buffer.from(`${OK}X: a\rb\n`)), {
      message: "Malformed HTTP header line: 'X: a\\rb'",
    });
  });

  test("rejects a status line as soon as it is complete, before the head ends", () => {
    const parser = new HttpResponseHeadParser();
    assert.equal(parser.feed(Buffer.from("hello")), undefined);
    assert.throws(() => parser.feed(Buffer.from("\n")), HttpParseError);
  });

  test("shows at most 100 characters of a long bad line in the message", () => {
    const bad = "x".repeat(300);
    assert.throws(() => new HttpResponseHeadParser().feed(Buffer.from(`${bad}\n`)), {
      message: `Malformed HTTP status line: '${"x".repeat(100)}...'`,
    });
  });

  test("throws the same error again on every feed after a failure", () => {
    const parser = new HttpResponseHeadParser();
    let first: unknown;
    try {
      parser.feed(Buffer.from("nope\n"));
    } catch (error) {
      first = error;
    }
    assert.throws(
      () => parser.feed(Buffer.from("HTTP/1.1 200 OK\r\n\r\n")),
      (e: unknown) => e === first,
    );
  });

  test("refuses to be fed after the head is complete", () => {
    const parser = new HttpResponseHeadParser();
    const head = parser.feed(Buffer.from("HTTP/1.1 200 OK\r\n\r\nbody"));
    assert.equal(parser.head, head);
    assert.throws(() => parser.feed(Buffer.from("more")), {
      message: "Cannot feed: the response head is already complete",
    });
  });

  test("does not keep a view of a chunk the caller reuses", () => {
    const parser = new HttpResponseHeadParser();
    const chunk = Buffer.from("HTTP/1.1 200 O");
    parser.feed(chunk);
    chunk.fill(0x21);
    assert.equal(parser.feed(Buffer.from("K\r\n\r\n"))?.reason, "OK");
  });

  test("accepts a head of exactly maxHeadBytes, in one chunk or byte by byte", () => {
    const size = Buffer.byteLength(HEAD);
    assert.deepEqual(parse(HEAD + BODY, { maxHeadBytes: size }), EXPECTED);
    const chunks = [...Buffer.from(HEAD)].map((b) => Buffer.of(b));
    assert.deepEqual(feedAll(chunks, { maxHeadBytes: size }).head.headers, EXPECTED.headers);
    assert.deepEqual(parse(HEAD, { maxHeadBytes: size + 1 }).status, 200);
  });

  test("throws LimitOverrunError when the head is one byte over maxHeadBytes", () => {
    const size = Buffer.byteLength(HEAD);
    for (const chunks of [
      [Buffer.from(HEAD + BODY)],
      [...Buffer.from(HEAD)].map((b) => Buffer.of(b)),
    ]) {
      const parser = new HttpResponseHeadParser({ maxHeadBytes: size - 1 });
      assert.throws(
        () => {
          for (const c of chunks) parser.feed(c);
        },
        (error: unknown) => {
          assert.ok(error instanceof LimitOverrunError);
          assert.equal(error.code, "ERR_LIMIT_OVERRUN");
          assert.equal(
            error.message,
            `Cannot parse response head: exceeded limit of ${size - 1} bytes`,
          );
          assert.equal(error.consumed, size);
          return true;
        },
      );
    }
  });

  test("throws LimitOverrunError on a long chunk without any line end", () => {
    const parser = new HttpResponseHeadParser();
    assert.throws(() => parser.feed(Buffer.alloc(70_000, 0x61)), {
      name: "LimitOverrunError",
      consumed: 70_000,
    });
  });

  test("defaults maxHeadBytes to 64 KiB", () => {
    const head = (n: number) => `HTTP/1.1 200 OK\r\nX: ${"a".repeat(n)}\r\n\r\n`;
    assert.equal(head(65512).length, 65536);
    assert.equal(parse(head(65512)).status, 200);
    assert.throws(() => parse(head(65513)), LimitOverrunError);
  });

  test("refuses a maxHeadBytes that is not a positive integer", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => new HttpResponseHeadParser({ maxHeadBytes: bad }),
        RangeError,
        String(bad),
      );
    }
    assert.throws(
      () => new HttpResponseHeadParser({ maxHeadBytes: "1" as unknown as number }),
      TypeError,
    );
  });
});

describe("parseHttpUrl", () => {
  const table: [
    url: string,
    scheme: string,
    host: string,
    port: number,
    path: string,
    hostHeader: string,
  ][] = [
    ["http://www.example.com", "http", "www.example.com", 80, "/", "www.example.com"],
    ["https://www.example.com", "https", "www.example.com", 443, "/", "www.example.com"],
    [
      "http://Example.COM:8080/a/b?x=1&y=2#frag",
      "http",
      "example.com",
      8080,
      "/a/b?x=1&y=2",
      "example.com:8080",
    ],
    ["http://example.com:80/", "http", "example.com", 80, "/", "example.com"],
    ["https://example.com:80/", "https", "example.com", 80, "/", "example.com:80"],
    ["http://[::1]:8080/x", "http", "::1", 8080, "/x", "[::1]:8080"],
    ["https://[2001:db8::1]/", "https", "2001:db8::1", 443, "/", "[2001:db8::1]"],
    ["http://127.0.0.1:3000", "http", "127.0.0.1", 3000, "/", "127.0.0.1:3000"],
    [
      "http://b\u00fccher.example/\u00e9 x",
      "http",
      "xn--bcher-kva.example",
      80,
      "/%C3%A9%20x",
      "xn--bcher-kva.example",
    ],
    ["http://user:pass@example.com/", "http", "example.com", 80, "/", "example.com"],
  ];
  for (const [url, scheme, host, port, path, hostHeader] of table) {
    test(`splits ${url}`, () => {
      assert.deepEqual(parseHttpUrl(url), { scheme, host, port, path, hostHeader });
    });
  }

  test("rejects schemes other than http and https with a TypeError", () => {
    for (const [url, scheme] of [
      ["ftp://example.com/", "ftp"],
      ["localhost:8080", "localhost"],
      ["file:///etc/passwd", "file"],
    ]) {
      assert.throws(() => parseHttpUrl(url as string), {
        name: "TypeError",
        message: `Unsupported URL scheme: expected http or https, got '${scheme}'`,
      });
    }
  });

  test("rejects what is not a URL with the URL parser's TypeError", () => {
    assert.throws(() => parseHttpUrl("www.example.com"), {
      name: "TypeError",
      code: "ERR_INVALID_URL",
    });
  });
});

describe("formatRequest", () => {
  const table: [method: string, url: string, expected: string][] = [
    ["HEAD", "http://www.example.com", "HEAD / HTTP/1.0\r\nHost: www.example.com\r\n\r\n"],
    ["GET", "https://example.com/a?b=c", "GET /a?b=c HTTP/1.0\r\nHost: example.com\r\n\r\n"],
    ["GET", "http://[::1]:8080/", "GET / HTTP/1.0\r\nHost: [::1]:8080\r\n\r\n"],
    ["HEAD", "https://example.com:443/", "HEAD / HTTP/1.0\r\nHost: example.com\r\n\r\n"],
  ];
  for (const [method, url, expected] of table) {
    test(`writes ${method} ${url} as the seeds do`, () => {
      assert.equal(formatRequest(method, url).toString("latin1"), expected);
    });
  }

  test("accepts an already parsed URL", () => {
    const url = parseHttpUrl("http://localhost:8000/x");
    assert.equal(
      formatRequest("GET", url).toString(),
      "GET /x HTTP/1.0\r\nHost: localhost:8000\r\n\r\n",
    );
  });

  test("rejects a method that is not an HTTP token", () => {
    for (const bad of ["", "GE T", "GET\r\nX:", "G\u00c9T"]) {
      assert.throws(
        () => formatRequest(bad, "http://example.com/"),
        TypeError,
        JSON.stringify(bad),
      );
    }
    assert.throws(() => formatRequest("GE T", "http://x/"), {
      message: "Invalid HTTP method: 'GE T'",
    });
  });
});
