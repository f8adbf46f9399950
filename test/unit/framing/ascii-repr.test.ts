import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { asciiRepr, bytesRepr } from "../../../src/framing/ascii-repr.js";
import { asciiCases, bytesReprCases } from "./python-oracle.js";

/** Reads a Python string literal as asciiRepr writes it; for the round-trip property. */
function readPyLiteral(literal: string): string {
  const body = literal.slice(1, -1);
  return body.replace(/\\(x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|.)/g, (_, esc: string) => {
    if (esc === "t") return "\t";
    if (esc === "n") return "\n";
    if (esc === "r") return "\r";
    if (esc.length === 1) return esc;
    return String.fromCodePoint(Number.parseInt(esc.slice(1), 16));
  });
}

describe("asciiRepr", () => {
  test("agrees with Python 3.11 ascii() on every oracle case", () => {
    for (const [input, expected] of asciiCases) {
      assert.equal(asciiRepr(input), expected, JSON.stringify(input));
    }
  });

  const table: [name: string, input: string, expected: string][] = [
    ["the empty string is two single quotes", "", "''"],
    ["plain text is put in single quotes", "hello", "'hello'"],
    ["a single quote alone switches to double quotes", "it's", `"it's"`],
    ["both quotes keep single quotes and escape the single one", `it's "x"`, `'it\\'s "x"'`],
    ["a double quote alone is not escaped", 'say "hi"', `'say "hi"'`],
    ["a backslash is doubled", "a\\b", "'a\\\\b'"],
    ["tab, newline and carriage return have short escapes", "\t\n\r", "'\\t\\n\\r'"],
    ["other control characters are hex escapes", "\0\x1b\x1f", "'\\x00\\x1b\\x1f'"],
    ["DEL is a hex escape", "\x7f", "'\\x7f'"],
    ["Latin-1 characters are hex escapes", "caf\u00e9\u00ff", "'caf\\xe9\\xff'"],
    ["other BMP characters are \\u escapes", "\u20ac\u3000\uffff", "'\\u20ac\\u3000\\uffff'"],
    ["an astral character is one \\U escape", "\u{1f600}", "'\\U0001f600'"],
    ["a lone high surrogate is escaped on its own", "\ud83d", "'\\ud83d'"],
    ["a lone low surrogate is escaped on its own", "x\udc00", "'x\\udc00'"],
  ];
  for (const [name, input, expected] of table) {
    test(name, () => assert.equal(asciiRepr(input), expected));
  }

  test("the output is printable ASCII only", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        assert.match(asciiRepr(s), /^[\x20-\x7e]*$/);
      }),
    );
  });

  test("reading the output back as a Python literal gives the input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        assert.equal(readPyLiteral(asciiRepr(s)), s);
      }),
    );
  });
});

describe("bytesRepr", () => {
  test("agrees with Python 3.11 repr(bytes) on every oracle case", () => {
    for (const [latin1, expected] of bytesReprCases) {
      assert.equal(bytesRepr(Buffer.from(latin1, "latin1")), expected, JSON.stringify(latin1));
    }
  });

  const table: [name: string, input: number[], expected: string][] = [
    ["no bytes give b''", [], "b''"],
    ["printable ASCII bytes are themselves", [0x68, 0x69, 0x20, 0x7e], "b'hi ~'"],
    ["a single quote alone switches to double quotes", [0x27], `b"'"`],
    ["both quotes keep single quotes", [0x27, 0x22], `b'\\'"'`],
    ["a backslash is doubled", [0x5c], "b'\\\\'"],
    ["tab, newline and carriage return have short escapes", [9, 10, 13], "b'\\t\\n\\r'"],
    [
      "other bytes are lower-case hex escapes",
      [0, 0x1f, 0x7f, 0x80, 0xff],
      "b'\\x00\\x1f\\x7f\\x80\\xff'",
    ],
  ];
  for (const [name, input, expected] of table) {
    test(name, () => assert.equal(bytesRepr(Uint8Array.from(input)), expected));
  }

  test("a Buffer view is read from its own offset", () => {
    const whole = Buffer.from("xxhelloxx");
    assert.equal(bytesRepr(whole.subarray(2, 7)), "b'hello'");
  });

  test("the output is printable ASCII only", () => {
    fc.assert(
      fc.property(fc.uint8Array(), (b) => {
        assert.match(bytesRepr(b), /^b[\x20-\x7e]*$/);
      }),
    );
  });
});
