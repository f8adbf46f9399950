import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AbortError,
  ConcurrentReadError,
  IncompleteReadError,
  LimitOverrunError,
} from "../../../src/errors.js";
import { DEFAULT_LIMIT, StreamReader } from "../../../src/streams/stream-reader.js";
import { feed, tick } from "../../helpers/fake-transport.js";
import { isPending } from "../../helpers/with-timeout.js";

const text = (buffer: Buffer) => buffer.toString("latin1");

describe("StreamReader construction", () => {
  test("the default limit is 64 KiB", () => {
    assert.equal(new StreamReader().limit, DEFAULT_LIMIT);
    assert.equal(DEFAULT_LIMIT, 65536);
  });

  for (const limit of [0, -1, 1.5, Number.NaN]) {
    test(`a limit of ${limit} is a RangeError`, () => {
      assert.throws(() => new StreamReader({ limit }), {
        name: "RangeError",
        message: `Invalid limit: must be a positive integer, got ${limit}`,
      });
    });
  }
});

describe("StreamReader.read", () => {
  test("read(0) returns an empty buffer at once and consumes nothing", async () => {
    const reader = new StreamReader();
    feed(reader, "abc");
    assert.equal((await reader.read(0)).length, 0);
    assert.equal(reader.bufferedSize, 3);
  });

  test("read(n) returns at most n bytes of what is buffered and keeps the rest", async () => {
    const reader = new StreamReader();
    feed(reader, "ab", "", "cdef");
    assert.equal(text(await reader.read(3)), "abc");
    assert.equal(reader.bufferedSize, 3);
    assert.equal(text(await reader.read(100)), "def");
    assert.equal(reader.bufferedSize, 0);
  });

  test("read(n) waits for data and returns the first bytes that arrive", async () => {
    const reader = new StreamReader();
    const pending = reader.read(10);
    await tick();
    feed(reader, "hi");
    assert.equal(text(await pending), "hi");
  });

  test("read() with no size reads everything until EOF", async () => {
    const reader = new StreamReader();
    const pending = reader.read();
    feed(reader, "one ");
    await tick();
    feed(reader, "two ", "three");
    await tick();
    reader.feedEof();
    assert.equal(text(await pending), "one two three");
    assert.ok(reader.atEof());
  });

  test("read returns an empty buffer at EOF, every time", async () => {
    const reader = new StreamReader();
    feed(reader, "x");
    reader.feedEof();
    assert.equal(reader.atEof(), false);
    assert.equal(text(await reader.read(5)), "x");
    assert.equal(reader.atEof(), true);
    assert.equal((await reader.read(5)).length, 0);
    assert.equal((await reader.read()).length, 0);
  });

  for (const n of [-2, 1.5, Number.NaN]) {
    test(`read(${n}) rejects with a RangeError`, async () => {
      await assert.rejects(new StreamReader().read(n), {
        name: "RangeError",
        message: `Invalid read size: ${n}`,
      });
    });
  }
});

describe("StreamReader.readExactly", () => {
  test("readExactly joins chunks and leaves the surplus buffered", async () => {
    const reader = new StreamReader();
    const pending = reader.readExactly(5);
    feed(reader, "ab");
    await tick();
    feed(reader, "", "c", "defg");
    assert.equal(text(await pending), "abcde");
    assert.equal(reader.bufferedSize, 2);
    assert.equal(text(await reader.read(10)), "fg");
  });

  test("readExactly(0) returns an empty buffer", async () => {
    const reader = new StreamReader();
    assert.equal((await reader.readExactly(0)).length, 0);
  });

  test("readExactly at EOF rejects with IncompleteReadError holding the partial bytes", async () => {
    const reader = new StreamReader();
    feed(reader, "abc");
    reader.feedEof();
    const error = await reader.readExactly(5).catch((e: unknown) => e);
    assert.ok(error instanceof IncompleteReadError);
    assert.equal(error.code, "ERR_INCOMPLETE_READ");
    assert.equal(error.message, "Cannot complete read: EOF after 3 bytes, expected 5 bytes");
    assert.equal(text(error.partial), "abc");
    assert.equal(error.expected, 5);
    assert.equal(reader.bufferedSize, 0);
    assert.equal((await reader.read()).length, 0);
  });

  test("readExactly(-1) rejects with a RangeError", async () => {
    await assert.rejects(new StreamReader().readExactly(-1), { name: "RangeError" });
  });
});

describe("StreamReader.readUntil", () => {
  test("a \\r\\n separator split across two chunks is found", async () => {
    const reader = new StreamReader();
    const pending = reader.readUntil("\r\n");
    feed(reader, "abc\r");
    await tick();
    feed(reader, "\ndef");
    assert.equal(text(await pending), "abc\r\n");
    assert.equal(text(await reader.read(10)), "def");
  });

  test("a \\r\\n separator split across chunks already buffered is found", async () => {
    const reader = new StreamReader();
    feed(reader, "xy", "abc\r", "\ndef");
    assert.equal(text(await reader.readExactly(2)), "xy");
    assert.equal(text(await reader.readUntil("\r\n")), "abc\r\n");
    assert.equal(reader.bufferedSize, 3);
  });

  test("an END separator split across three chunks is found", async () => {
    const reader = new StreamReader();
    const pending = reader.readUntil("END");
    for (const part of ["dataE", "", "N", "Dtail"]) {
      feed(reader, part);
      await tick();
    }
    assert.equal(text(await pending), "dataEND");
    assert.equal(text(await reader.read(10)), "tail");
  });

  test("with several separators the match that ends first wins", async () => {
    const reader = new StreamReader();
    feed(reader, "a\nb\r\nc");
    assert.equal(text(await reader.readUntil(["\r\n", "\n"])), "a\n");
    assert.equal(text(await reader.readUntil(["\r\n", "\n"])), "b\r\n");
    feed(reader, "xxEND", "\n");
    assert.equal(text(await reader.readUntil([Buffer.from("END"), "\n"])), "cxxEND");
    assert.equal(text(await reader.read(10)), "\n");
  });

  test("a separator that starts exactly at the limit is accepted", async () => {
    const reader = new StreamReader({ limit: 4 });
    feed(reader, "abcdEND!");
    assert.equal(text(await reader.readUntil("END")), "abcdEND");
  });

  test("readUntil past the limit throws LimitOverrunError and keeps every byte", async () => {
    const reader = new StreamReader({ limit: 4 });
    feed(reader, "abc", "def");
    const error = await reader.readUntil("\n").catch((e: unknown) => e);
    assert.ok(error instanceof LimitOverrunError);
    assert.ok(error instanceof RangeError);
    assert.equal(error.code, "ERR_LIMIT_OVERRUN");
    assert.equal(error.consumed, 6);
    assert.match(error.message, /limit/);
    assert.equal(reader.bufferedSize, 6);
    assert.equal(text(await reader.readExactly(error.consumed)), "abcdef");
  });

  test("readUntil with the separator beyond the limit reports where it starts and keeps the data", async () => {
    const reader = new StreamReader({ limit: 4 });
    feed(reader, "abcdefg\nrest");
    const error = await reader.readUntil("\n").catch((e: unknown) => e);
    assert.ok(error instanceof LimitOverrunError);
    assert.equal(error.consumed, 7);
    assert.equal(reader.bufferedSize, 12);
    assert.equal(text(await reader.read(100)), "abcdefg\nrest");
  });

  test("readUntil at EOF rejects with IncompleteReadError whose expected is null", async () => {
    const reader = new StreamReader();
    feed(reader, "abc");
    reader.feedEof();
    const error = await reader.readUntil("END").catch((e: unknown) => e);
    assert.ok(error instanceof IncompleteReadError);
    assert.equal(error.message, "Cannot complete read: EOF after 3 bytes, expected a separator");
    assert.equal(text(error.partial), "abc");
    assert.equal(error.expected, null);
    assert.ok(reader.atEof());
  });

  test("a separator completed by the last chunk before EOF is still found", async () => {
    const reader = new StreamReader();
    feed(reader, "abE", "ND");
    reader.feedEof();
    assert.equal(text(await reader.readUntil("END")), "abEND");
  });

  const badSeparators: [string, unknown, string, string][] = [
    ["an empty string", "", "RangeError", "Invalid separator: must not be empty"],
    ["an empty list", [], "RangeError", "Invalid separator: at least one is required"],
    ["a number", 10, "TypeError", "Invalid separator: expected a string or Uint8Array"],
    [
      "an empty Uint8Array",
      new Uint8Array(0),
      "RangeError",
      "Invalid separator: must not be empty",
    ],
  ];
  for (const [what, separator, name, message] of badSeparators) {
    test(`readUntil with ${what} rejects with a ${name}`, async () => {
      const reader = new StreamReader();
      feed(reader, "a\n");
      await assert.rejects(reader.readUntil(separator as string), { name, message });
      assert.equal(reader.bufferedSize, 2);
    });
  }
});

describe("StreamReader concurrency, cancellation and errors", () => {
  const second: [string, (r: StreamReader) => Promise<Buffer>][] = [
    ["read", (r) => r.read(1)],
    ["readExactly", (r) => r.readExactly(1)],
    ["readLine", (r) => r.readLine()],
    ["readUntil", (r) => r.readUntil("\n")],
  ];
  for (const [method, start] of second) {
    test(`a ${method} started while another read waits rejects with ConcurrentReadError`, async () => {
      const reader = new StreamReader();
      const first = reader.readExactly(4);
      feed(reader, "ab");
      const error = await start(reader).catch((e: unknown) => e);
      assert.ok(error instanceof ConcurrentReadError);
      assert.equal(error.code, "ERR_CONCURRENT_READ");
      assert.equal(error.message, `Cannot ${method}: another read is already waiting for data`);
      feed(reader, "cd\n");
      assert.equal(text(await first), "abcd");
      assert.equal(text(await reader.read(10)), "\n");
    });
  }

  test("an AbortSignal cancels a waiting read and loses no data", async () => {
    const reader = new StreamReader();
    const controller = new AbortController();
    const pending = reader.readExactly(10, { signal: controller.signal });
    feed(reader, "abc");
    await tick();
    controller.abort();
    await assert.rejects(pending, { name: "AbortError" });
    assert.equal(reader.bufferedSize, 3);
    feed(reader, "def\n");
    assert.equal(text(await reader.readLine()), "abcdef\n");
  });

  test("one signal cancels the waiting reads of many readers, not their later reads with another", async () => {
    const controller = new AbortController();
    const readers = [new StreamReader(), new StreamReader(), new StreamReader()];
    const [waiting, other, ended] = readers as [StreamReader, StreamReader, StreamReader];
    const pending = waiting.readLine({ signal: controller.signal });
    // Waited on the signal once, then on no signal: not cancelled by it any more.
    const first = other.readLine({ signal: controller.signal });
    feed(other, "x\n");
    assert.equal(text(await first), "x\n");
    const unsignalled = other.readLine();
    // At EOF a reader leaves the signal; its read returns what was left.
    ended.feedEof();
    controller.abort();
    await assert.rejects(pending, { name: "AbortError" });
    assert.ok(await isPending(unsignalled));
    feed(other, "y\n");
    assert.equal(text(await unsignalled), "y\n");
    assert.equal(text(await ended.readLine({ signal: new AbortController().signal })), "");
  });

  test("an abort reason that is not an Error becomes an AbortError with it as cause", async () => {
    const reader = new StreamReader();
    const controller = new AbortController();
    const pending = reader.readLine({ signal: controller.signal });
    controller.abort("shutting down");
    const error = await pending.catch((e: unknown) => e);
    assert.ok(error instanceof AbortError);
    assert.equal(error.code, "ABORT_ERR");
    assert.equal(error.message, "The operation was aborted");
    assert.equal(error.cause, "shutting down");
  });

  test("an already aborted signal rejects a read that would have to wait", async () => {
    const reader = new StreamReader();
    feed(reader, "ab");
    const signal = AbortSignal.abort(new Error("stop"));
    await assert.rejects(reader.readUntil("\n", { signal }), { message: "stop" });
    assert.equal(reader.bufferedSize, 2);
    assert.equal(text(await reader.read(10)), "ab");
  });

  test("setException rejects the waiting read and every later read", async () => {
    const reader = new StreamReader();
    const pending = reader.readLine();
    feed(reader, "partial");
    const boom = new Error("reset");
    reader.setException(boom);
    await assert.rejects(pending, boom);
    await assert.rejects(reader.read(1), boom);
    await assert.rejects(reader.readLine(), boom);
    assert.equal(reader.exception(), boom);
  });

  test("feedData after feedEof throws InvalidStateError and feedEof twice is harmless", () => {
    const reader = new StreamReader();
    reader.feedEof();
    reader.feedEof();
    assert.throws(() => feed(reader, "x"), {
      name: "InvalidStateError",
      code: "ERR_INVALID_STATE",
      message: "Cannot feed data: EOF was already fed",
    });
  });

  test("async iteration yields each line, then the partial last line, then stops", async () => {
    const reader = new StreamReader();
    feed(reader, "one\ntw", "o\n", "", "thr");
    const lines: string[] = [];
    const iterating = (async () => {
      for await (const line of reader) lines.push(text(line));
    })();
    await tick();
    feed(reader, "ee");
    reader.feedEof();
    await iterating;
    assert.deepEqual(lines, ["one\n", "two\n", "three"]);
  });
});
