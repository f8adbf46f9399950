import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ChunkQueue } from "../../../src/streams/chunk-queue.js";
import { type TokenVisitor, takeTokens } from "../../../src/streams/take-tokens.js";

const b = (text: string) => Buffer.from(text, "latin1");
const CRLF = b("\r\n");

/** Cuts `bytes` into pieces of the given sizes (cycled), empty pieces included. */
function cut(bytes: string, sizes: number[]): string[] {
  const parts: string[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length && i < 10 * bytes.length + 10; i++) {
    const size = sizes[i % sizes.length] as number;
    parts.push(bytes.slice(at, at + size));
    at += size;
  }
  parts.push(bytes.slice(at));
  return parts;
}

/**
 * A RESP-like visitor: a line `$N\r\n` asks for N bytes next, any other line
 * for a line. Keeps each token as text, and a view of it (as a framing keeps
 * an argument), and stops after `stopAfter` tokens.
 */
function resp(stopAfter = Number.POSITIVE_INFINITY) {
  const visitor: TokenVisitor & { tokens: string[]; views: Buffer[]; chunks: Buffer[] } = {
    want: -1,
    tokens: [],
    views: [],
    chunks: [],
    onToken(bytes, start, end) {
      const token = bytes.toString("latin1", start, end);
      this.tokens.push(token);
      this.views.push(bytes.subarray(start, end));
      this.chunks.push(bytes);
      this.want = this.want < 0 && token.startsWith("$") ? Number(token.slice(1, -2)) : -1;
      return this.tokens.length < stopAfter;
    },
  };
  return visitor;
}

describe("takeTokens", () => {
  test("tokens inside one chunk are handed in place, both kinds, in order", () => {
    const chunk = b("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    const queue = new ChunkQueue();
    queue.append(chunk);
    const visitor = resp();
    // `$3\r\n` asks for the 3 bytes, then a line: "\r\n" before the next header.
    assert.equal(takeTokens(queue, CRLF, 100, visitor), 7);
    assert.deepEqual(visitor.tokens, ["*2\r\n", "$3\r\n", "GET", "\r\n", "$1\r\n", "k", "\r\n"]);
    for (const bytes of visitor.chunks) assert.equal(bytes, chunk);
    assert.equal(queue.size, 0);
  });

  test("a token that straddles chunks is copied whole, of either kind", () => {
    const queue = new ChunkQueue();
    queue.append(b("$5\r"));
    queue.append(b("\nab"));
    queue.append(b("cde\r\n"));
    const visitor = resp();
    assert.equal(takeTokens(queue, CRLF, 100, visitor), 3);
    assert.deepEqual(visitor.tokens, ["$5\r\n", "abcde", "\r\n"]);
  });

  test("stops, consuming nothing, when the wanted token is not buffered, and goes on once it is", () => {
    const queue = new ChunkQueue();
    const visitor = resp();
    queue.append(b("$4\r\nab"));
    assert.equal(takeTokens(queue, CRLF, 100, visitor), 1);
    assert.equal(visitor.want, 4);
    assert.equal(queue.size, 2);
    queue.append(b("cd\r"));
    assert.equal(takeTokens(queue, CRLF, 100, visitor), 1);
    assert.equal(visitor.want, -1);
    assert.equal(takeTokens(queue, CRLF, 100, visitor), 0);
    assert.equal(queue.size, 1);
    queue.append(b("\n"));
    assert.equal(takeTokens(queue, CRLF, 100, visitor), 1);
    assert.deepEqual(visitor.tokens, ["$4\r\n", "abcd", "\r\n"]);
  });

  test("want 0 hands an empty token, even with nothing buffered", () => {
    const queue = new ChunkQueue();
    const visitor = resp(2);
    visitor.want = 0;
    assert.equal(takeTokens(queue, CRLF, 100, visitor), 1);
    assert.deepEqual(visitor.tokens, [""]);
    assert.equal(visitor.want, -1);
  });

  test("a separator starting past the limit is not handed over and nothing is consumed", () => {
    const queue = new ChunkQueue();
    queue.append(b("abcdef\r\nxy\r\n"));
    const visitor = resp();
    assert.equal(takeTokens(queue, CRLF, 5, visitor), 0);
    assert.equal(queue.size, 12);
    assert.equal(takeTokens(queue, CRLF, 6, visitor), 2);
    assert.deepEqual(visitor.tokens, ["abcdef\r\n", "xy\r\n"]);
  });

  test("stops after the token for which onToken returns false, that token consumed", () => {
    const queue = new ChunkQueue();
    queue.append(b("a\r\nb\r\nc\r\n"));
    const visitor = resp(2);
    assert.equal(takeTokens(queue, CRLF, 100, visitor), 2);
    assert.equal(queue.size, 3);
  });

  test("a view of a token stays intact while more arrives and is taken", () => {
    const queue = new ChunkQueue();
    for (const part of ["1", "2", "3", "4"]) queue.append(b(part));
    queue.skip(4);
    const visitor = resp();
    for (let i = 0; i < 300; i++) {
      queue.append(b(`$2\r\n${String(i % 100).padStart(2, "0")}\r\n`.slice(0, 5)));
      queue.append(b(`$2\r\n${String(i % 100).padStart(2, "0")}\r\n`.slice(5)));
      takeTokens(queue, CRLF, 100, visitor);
    }
    const values = visitor.views.filter((_, i) => i % 3 === 1).map((v) => v.toString("latin1"));
    assert.equal(values.length, 300);
    values.forEach((value, i) => assert.equal(value, String(i % 100).padStart(2, "0")));
  });

  test("any chunking of a RESP-like stream gives the same tokens and leftover", () => {
    const tokenArb = fc.oneof(
      fc
        .stringMatching(/^[a-c\r\n]{0,6}$/)
        .map((payload) => `$${payload.length}\r\n${payload}\r\n`),
      fc.stringMatching(/^[*a-c]{0,5}$/).map((line) => `${line}\r\n`),
    );
    const streamArb = fc
      .tuple(fc.array(tokenArb, { maxLength: 12 }), fc.stringMatching(/^[$1a\r\n]{0,4}$/))
      .map(([tokens, rest]) => tokens.join("") + rest);
    const sizesArb = fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 12 });
    const run = (parts: string[]) => {
      const queue = new ChunkQueue();
      const visitor = resp();
      for (const part of parts) {
        queue.append(b(part));
        takeTokens(queue, CRLF, 64, visitor);
      }
      return {
        tokens: visitor.tokens,
        views: visitor.views.map((view) => view.toString("latin1")),
        rest: queue.take(queue.size).toString("latin1"),
      };
    };
    fc.assert(
      fc.property(streamArb, sizesArb, (stream, sizes) => {
        const whole = run([stream]);
        assert.deepEqual(run(cut(stream, sizes)), whole);
        assert.deepEqual(whole.views, whole.tokens);
        assert.equal(whole.tokens.join("") + whole.rest, stream);
      }),
      { numRuns: 300 },
    );
  });
});
