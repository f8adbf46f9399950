import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { asciiRepr } from "../../../src/framing/ascii-repr.js";
import { lineEchoReply } from "../../../src/framing/line-echo.js";
import { rstrip } from "../../../src/framing/py-strip.js";
import { echoCases } from "./python-oracle.js";

const NOT_UTF8 = "ERROR. Input is not valid UTF-8\r\n";

describe("lineEchoReply", () => {
  test("answers every oracle line as the seed's Python does", () => {
    for (const [line, expected] of echoCases) {
      const { reply } = lineEchoReply(Buffer.from(line, "latin1"));
      // Where the seed crashed on bytes that are not UTF-8, the line echo answers.
      assert.equal(reply.toString("latin1"), expected === "crash:utf8" ? NOT_UTF8 : expected);
    }
  });

  const table: [name: string, line: string, expected: string, close: boolean][] = [
    ["echoes a line in Python's ascii() form", "hello", "Echoed: 'hello'\r\n", false],
    ["strips a telnet carriage return", "hello\r", "Echoed: 'hello'\r\n", false],
    ["strips trailing whitespace only", "  a b \t", "Echoed: '  a b'\r\n", false],
    ["echoes an empty line as empty quotes", "", "Echoed: ''\r\n", false],
    ["uses double quotes for a single quote", "it's", `Echoed: "it's"\r\n`, false],
    [
      "escapes non-ASCII characters",
      "caf\u00e9 \u20ac \u{1f600}",
      "Echoed: 'caf\\xe9 \\u20ac \\U0001f600'\r\n",
      false,
    ],
    ["escapes control characters", "a\0b\x1bc", "Echoed: 'a\\x00b\\x1bc'\r\n", false],
    ["keeps a BOM, as Python's utf-8 codec does", "\ufeffhi", "Echoed: '\\ufeffhi'\r\n", false],
    ["answers quit by closing", "quit", "connection closed\r\n", true],
    ["answers quit with trailing whitespace by closing", "quit \r", "connection closed\r\n", true],
    ["does not close on a capitalised Quit", "Quit", "Echoed: 'Quit'\r\n", false],
    ["does not close on a quit after a space", " quit", "Echoed: ' quit'\r\n", false],
  ];
  for (const [name, line, expected, close] of table) {
    test(name, () => {
      const result = lineEchoReply(Buffer.from(line, "utf8"));
      assert.equal(result.reply.toString("latin1"), expected);
      assert.equal(result.close, close);
    });
  }

  test("answers bytes that are not UTF-8 with an error line and stays open", () => {
    for (const bad of [[0xff], [0x61, 0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
      assert.deepEqual(lineEchoReply(Uint8Array.from(bad)), {
        reply: Buffer.from(NOT_UTF8),
        close: false,
      });
    }
  });

  test("decodes a line correctly right after an invalid one", () => {
    lineEchoReply(Uint8Array.from([0xe2, 0x82]));
    assert.equal(
      lineEchoReply(Buffer.from("\u20ac")).reply.toString("latin1"),
      "Echoed: '\\u20ac'\r\n",
    );
  });

  test("gives the stripped line to log, except for quit and bad bytes", () => {
    assert.equal(lineEchoReply(Buffer.from("hi \r")).text, "hi");
    assert.equal(lineEchoReply(Buffer.from("quit")).text, undefined);
    assert.equal(lineEchoReply(Uint8Array.from([0xff])).text, undefined);
  });

  test("replies are ASCII and echo any text as ascii() of its rstrip", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        const { reply, close } = lineEchoReply(Buffer.from(s, "utf8"));
        if (close) return;
        assert.equal(reply.toString("latin1"), `Echoed: ${asciiRepr(rstrip(s))}\r\n`);
        assert.ok(reply.every((b) => b < 0x80));
      }),
    );
  });
});
