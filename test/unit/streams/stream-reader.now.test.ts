import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ConcurrentReadError,
  IncompleteReadError,
  LimitOverrunError,
} from "../../../src/errors.js";
import { StreamReader } from "../../../src/streams/stream-reader.js";
import { feed } from "../../helpers/fake-transport.js";

const text = (bytes: Buffer | null) => (bytes === null ? null : bytes.toString("latin1"));

describe("StreamReader.readExactlyNow", () => {
  test("returns n buffered bytes across chunks and leaves the surplus", () => {
    const reader = new StreamReader();
    feed(reader, "\x00\x03", "ab", "", "cde");
    assert.equal(reader.readExactlyNow(2)?.readUInt16BE(0), 3);
    assert.equal(text(reader.readExactlyNow(3)), "abc");
    assert.equal(reader.bufferedSize, 2);
  });

  test("returns null and consumes nothing while fewer than n bytes are buffered", () => {
    const reader = new StreamReader();
    feed(reader, "abc");
    assert.equal(reader.readExactlyNow(4), null);
    assert.equal(reader.bufferedSize, 3);
    feed(reader, "d");
    assert.equal(text(reader.readExactlyNow(4)), "abcd");
  });

  test("readExactlyNow(0) returns an empty buffer, even on an empty reader", () => {
    assert.equal(new StreamReader().readExactlyNow(0)?.length, 0);
  });

  test("at EOF before n bytes it throws IncompleteReadError holding and consuming them", () => {
    const reader = new StreamReader();
    feed(reader, "ab");
    reader.feedEof();
    const error = (() => {
      try {
        return reader.readExactlyNow(5);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof IncompleteReadError);
    assert.equal(text(error.partial), "ab");
    assert.equal(error.expected, 5);
    assert.ok(reader.atEof());
  });

  for (const n of [-1, 1.5, Number.NaN]) {
    test(`readExactlyNow(${n}) throws a RangeError`, () => {
      assert.throws(() => new StreamReader().readExactlyNow(n), {
        name: "RangeError",
        message: `Invalid read size: ${n}`,
      });
    });
  }
});

describe("StreamReader.readUntilNow", () => {
  test("returns the bytes through a separator split across chunks, then null for a partial one", () => {
    const reader = new StreamReader();
    feed(reader, "+OK\r", "\n$3\r\nab");
    assert.equal(text(reader.readUntilNow("\r\n")), "+OK\r\n");
    assert.equal(text(reader.readUntilNow("\r\n")), "$3\r\n");
    assert.equal(reader.readUntilNow("\r\n"), null);
    assert.equal(reader.bufferedSize, 2);
    feed(reader, "c\r", "\n");
    assert.equal(text(reader.readUntilNow("\r\n")), "abc\r\n");
  });

  test("with several separators the match that ends first wins; the default is \\n", () => {
    const reader = new StreamReader();
    feed(reader, "a\nb\r\n");
    assert.equal(text(reader.readUntilNow(["\r\n", "\n"])), "a\n");
    assert.equal(text(reader.readUntilNow()), "b\r\n");
  });

  test("a separator that starts exactly at the limit is accepted", () => {
    const reader = new StreamReader({ limit: 4 });
    feed(reader, "abcdEND!");
    assert.equal(text(reader.readUntilNow("END")), "abcdEND");
  });

  test("past the limit it throws LimitOverrunError and keeps every byte, as readUntil", () => {
    const reader = new StreamReader({ limit: 4 });
    feed(reader, "abc", "def");
    assert.throws(
      () => reader.readUntilNow("\n"),
      (error: unknown) => {
        assert.ok(error instanceof LimitOverrunError);
        assert.equal(error.consumed, 6);
        assert.equal(
          error.message,
          "Cannot read until separator: not found within the limit of 4 bytes",
        );
        return true;
      },
    );
    assert.equal(reader.bufferedSize, 6);
    assert.equal(text(reader.readExactlyNow(6)), "abcdef");
  });

  test("limit − 1 and limit bytes without a separator are still waited for", () => {
    for (const size of [3, 4]) {
      const reader = new StreamReader({ limit: 4 });
      feed(reader, "x".repeat(size));
      assert.equal(reader.readUntilNow("\n"), null);
    }
  });

  test("at EOF without a separator it throws IncompleteReadError holding the rest", () => {
    const reader = new StreamReader();
    feed(reader, "abE");
    reader.feedEof();
    assert.throws(() => reader.readUntilNow("END"), {
      name: "IncompleteReadError",
      message: "Cannot complete read: EOF after 3 bytes, expected a separator",
    });
    assert.ok(reader.atEof());
  });

  test("an invalid separator throws as readUntil rejects, consuming nothing", () => {
    const reader = new StreamReader();
    feed(reader, "a\n");
    assert.throws(() => reader.readUntilNow(""), {
      name: "RangeError",
      message: "Invalid separator: must not be empty",
    });
    assert.throws(() => reader.readUntilNow(10 as unknown as string), { name: "TypeError" });
    assert.equal(reader.bufferedSize, 2);
  });
});

describe("StreamReader sync reads and the waiting read", () => {
  test("both throw ConcurrentReadError while another read waits, consuming nothing", async () => {
    const reader = new StreamReader();
    const pending = reader.readExactly(4);
    feed(reader, "ab\n");
    assert.throws(() => reader.readExactlyNow(1), {
      name: "ConcurrentReadError",
      message: "Cannot readExactlyNow: another read is already waiting for data",
    });
    assert.throws(
      () => reader.readUntilNow("\n"),
      (e: unknown) => e instanceof ConcurrentReadError,
    );
    feed(reader, "c");
    assert.equal(text(await pending), "ab\nc");
  });

  test("both throw the setException error", () => {
    const reader = new StreamReader();
    feed(reader, "abc\n");
    const boom = new Error("reset");
    reader.setException(boom);
    assert.throws(() => reader.readExactlyNow(1), boom);
    assert.throws(() => reader.readUntilNow("\n"), boom);
  });
});
