import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { IncompleteReadError, LimitOverrunError } from "../../../src/errors.js";
import { StreamReader, type TokenVisitor } from "../../../src/streams/stream-reader.js";
import { feed } from "../../helpers/fake-transport.js";

/** A RESP-like visitor: `$N\r\n` asks for N bytes and their `\r\n` next, any other line for a line. */
function resp(stopAfter = Number.POSITIVE_INFINITY) {
  const visitor: TokenVisitor & { tokens: string[] } = {
    want: -1,
    tokens: [],
    onToken(bytes, start, end) {
      const token = bytes.toString("latin1", start, end);
      this.tokens.push(token);
      this.want = this.want < 0 && token.startsWith("$") ? Number(token.slice(1, -2)) + 2 : -1;
      return this.tokens.length < stopAfter;
    },
  };
  return visitor;
}

describe("StreamReader.readTokensNow", () => {
  test("hands every buffered token, fed in awkward pieces, and keeps its place between feeds", () => {
    const reader = new StreamReader();
    const visitor = resp();
    const stream = "*2\r\n$3\r\nGET\r\n$4\r\na\r\nb\r\n*1\r\n$4\r\nPING\r\n";
    let handed = 0;
    for (let at = 0; at < stream.length; at += 3) {
      feed(reader, stream.slice(at, at + 3));
      handed += reader.readTokensNow("\r\n", visitor);
    }
    assert.equal(handed, 8);
    assert.deepEqual(visitor.tokens, [
      "*2\r\n",
      "$3\r\n",
      "GET\r\n",
      "$4\r\n",
      "a\r\nb\r\n",
      "*1\r\n",
      "$4\r\n",
      "PING\r\n",
    ]);
    assert.equal(reader.bufferedSize, 0);
  });

  test("stops after onToken returns false, that token consumed", () => {
    const reader = new StreamReader();
    feed(reader, "a\r\nb\r\nc\r\n");
    assert.equal(reader.readTokensNow("\r\n", resp(2)), 2);
    assert.equal(reader.bufferedSize, 3);
  });

  test("leaves EOF and an over-long line to readUntilNow, which says why", () => {
    const eof = new StreamReader();
    feed(eof, "abc");
    eof.feedEof();
    assert.equal(eof.readTokensNow("\r\n", resp()), 0);
    assert.throws(() => eof.readUntilNow("\r\n"), IncompleteReadError);

    const long = new StreamReader({ limit: 4 });
    feed(long, "abcdef\r\n");
    assert.equal(long.readTokensNow("\r\n", resp()), 0);
    assert.equal(long.bufferedSize, 8);
    assert.throws(() => long.readUntilNow("\r\n"), LimitOverrunError);
  });

  test("hands nothing while another read waits, and refuses more than one separator", async () => {
    const reader = new StreamReader();
    const pending = reader.readExactly(100);
    feed(reader, "a\r\n");
    assert.equal(reader.readTokensNow("\r\n", resp()), 0);
    reader.feedEof();
    await assert.rejects(pending, IncompleteReadError);
    assert.throws(() => reader.readTokensNow(["\r\n", "\n"] as never, resp()), RangeError);
    assert.throws(() => reader.readTokensNow("", resp()), RangeError);
  });
});
