import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HttpBodyTruncatedError, HttpParseError, LimitOverrunError } from "../../../src/errors.js";
import { ChunkedDecoder } from "../../../src/framing/http-chunked.js";

/** Feeds `pieces` one by one; returns the decoded data, the decoder and its rest. */
function decode(pieces: readonly (string | Buffer)[], decoder = new ChunkedDecoder()) {
  const out: Buffer[] = [];
  for (const piece of pieces) {
    const bytes = typeof piece === "string" ? Buffer.from(piece, "latin1") : piece;
    for (const data of decoder.feed(bytes)) out.push(Buffer.from(data));
  }
  return { data: Buffer.concat(out).toString("latin1"), decoder };
}

/** Every split of `text` into pieces at the given cut points. */
function split(text: string, cuts: readonly number[]): string[] {
  const pieces: string[] = [];
  let at = 0;
  for (const cut of cuts) {
    pieces.push(text.slice(at, cut));
    at = cut;
  }
  pieces.push(text.slice(at));
  return pieces;
}

const BODY = '5\r\nhello\r\n7;name=value; q="a;\\"b"\r\n, world\r\n0\r\nX-Sum: 12 \r\n\r\nNEXT';

describe("ChunkedDecoder", () => {
  test("decodes chunks, ignores extensions, keeps trailers and what follows", () => {
    const { data, decoder } = decode([BODY]);
    assert.equal(data, "hello, world");
    assert.equal(decoder.done, true);
    assert.equal(decoder.received, 12);
    assert.deepEqual(decoder.trailers, [["X-Sum", "12"]]);
    assert.equal(decoder.rest.toString(), "NEXT");
    decoder.end();
  });

  test("gives the same result for every split of the input into two and three pieces", () => {
    for (let i = 0; i <= BODY.length; i++) {
      const two = decode(split(BODY, [i]));
      assert.equal(two.data, "hello, world", `cut at ${i}`);
      assert.equal(two.decoder.done, true, `cut at ${i}`);
      for (let j = i; j <= BODY.length; j += 3) {
        const three = decode(split(BODY, [i, j]));
        assert.equal(three.data, "hello, world", `cuts at ${i}, ${j}`);
        assert.deepEqual(three.decoder.trailers, [["X-Sum", "12"]]);
      }
    }
  });

  test("takes one byte at a time and empty pieces", () => {
    const pieces = [...BODY].flatMap((c) => ["", c]);
    const { data, decoder } = decode(pieces);
    assert.equal(data, "hello, world");
    assert.equal(decoder.done, true);
    // The rest is what the completing piece held after the body: nothing, byte by byte.
    assert.equal(decoder.rest.length, 0);
    assert.deepEqual(decoder.feed(Buffer.from("more")), []);
  });

  test("accepts upper and lower case hex, leading zeros, spaces before `;` and bare LF", () => {
    const { data, decoder } = decode(["0A \t;x\nabcdefghij\n000a\r\n0123456789\r\n00\n\n"]);
    assert.equal(data, "abcdefghij0123456789");
    assert.equal(decoder.done, true);
  });

  test("a last chunk with no trailer and nothing after it", () => {
    const { data, decoder } = decode(["3\r\nabc\r\n0\r\n\r\n"]);
    assert.equal(data, "abc");
    assert.equal(decoder.done, true);
    assert.equal(decoder.rest.length, 0);
  });

  test("rejects a malformed chunk size with HttpParseError, and stays spent", () => {
    for (const line of ["", "x", "0x5", "-5", "+5", "5 5", "5;", "5;a b", '5;a="', " 5", "5\x00"]) {
      const decoder = new ChunkedDecoder();
      assert.throws(
        () => decoder.feed(Buffer.from(`${line}\r\nhello\r\n0\r\n\r\n`, "latin1")),
        (error: unknown) =>
          error instanceof HttpParseError &&
          error.code === "ERR_HTTP_PARSE" &&
          /^Cannot decode chunked body: malformed chunk size /.test(error.message),
        JSON.stringify(line),
      );
      assert.throws(() => decoder.feed(Buffer.from("0\r\n\r\n")), HttpParseError);
      assert.throws(() => decoder.end(), HttpParseError);
    }
  });

  test("rejects a size beyond 2^53 - 1", () => {
    const decoder = new ChunkedDecoder();
    assert.throws(() => decoder.feed(Buffer.from("20000000000000\r\n")), HttpParseError);
    assert.deepEqual(new ChunkedDecoder().feed(Buffer.from("1fffffffffffff\r\nab")), [
      Buffer.from("ab"),
    ]);
  });

  test("rejects chunk data not followed by CRLF", () => {
    for (const after of ["X", "\rX", "\r\r\n"]) {
      const decoder = new ChunkedDecoder();
      assert.throws(
        () => decode(["5\r\nhello", after], decoder),
        /^HttpParseError: Cannot decode chunked body: chunk data not followed by CRLF$/,
      );
    }
  });

  test("rejects a malformed trailer line", () => {
    assert.throws(
      () => decode(["0\r\nnot a field\r\n\r\n"]),
      /^HttpParseError: Cannot decode chunked body: malformed trailer 'not a field'$/,
    );
  });

  test("limits the chunk-size line: maxLineBytes passes, one more throws", () => {
    const line = `5;${"e".repeat(6)}\r\n`;
    assert.equal(line.length, 10);
    assert.equal(decode([line, "hello"], new ChunkedDecoder({ maxLineBytes: 10 })).data, "hello");
    assert.throws(
      () => decode([line.slice(0, 5), line.slice(5)], new ChunkedDecoder({ maxLineBytes: 9 })),
      (error: unknown) =>
        error instanceof LimitOverrunError &&
        error.consumed === 10 &&
        error.message === "Cannot decode chunked body: chunk-size line exceeded limit of 9 bytes",
    );
    // A size line that never ends fails at the limit, not at the end of memory.
    const endless = new ChunkedDecoder({ maxLineBytes: 100 });
    assert.throws(() => {
      for (let i = 0; i < 1000; i++) endless.feed(Buffer.from("0"));
    }, LimitOverrunError);
  });

  test("limits the trailer section: maxTrailerBytes passes, one more throws", () => {
    const trailer = "A: 1\r\nB: 2\r\n\r\n";
    assert.equal(
      decode([`0\r\n${trailer}`], new ChunkedDecoder({ maxTrailerBytes: 14 })).decoder.done,
      true,
    );
    assert.throws(
      () => decode([`0\r\n${trailer}`], new ChunkedDecoder({ maxTrailerBytes: 13 })),
      /^LimitOverrunError: Cannot decode chunked body: trailer section exceeded limit of 13 bytes$/,
    );
  });

  test("end() before the last chunk throws HttpBodyTruncatedError with the bytes decoded", () => {
    for (const input of [
      "",
      "5\r\nhel",
      "5\r\nhello",
      "5\r\nhello\r\n",
      "5\r\nhello\r\n0\r\n",
      "5\r\nhello\r\n0\r\nA: 1\r\n",
    ]) {
      const { decoder } = decode([input]);
      assert.throws(
        () => decoder.end(),
        (error: unknown) =>
          error instanceof HttpBodyTruncatedError &&
          error.code === "ERR_HTTP_BODY_TRUNCATED" &&
          error.expected === undefined &&
          error.received === decoder.received &&
          error.message === `Connection closed at byte ${decoder.received}, before the last chunk`,
        JSON.stringify(input),
      );
    }
  });

  test("validates its options", () => {
    assert.throws(() => new ChunkedDecoder({ maxLineBytes: 0 }), RangeError);
    assert.throws(() => new ChunkedDecoder({ maxTrailerBytes: 1.5 }), RangeError);
    assert.throws(() => new ChunkedDecoder({ maxLineBytes: "9" as unknown as number }), TypeError);
  });
});
