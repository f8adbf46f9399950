import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { isPySpace, lstrip, rstrip, strip } from "../../../src/framing/py-strip.js";
import { stripCases } from "./python-oracle.js";

/** Every code point for which Python 3.11's str.isspace() holds. */
const PYTHON_SPACES = [
  0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002,
  0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f,
  0x3000,
];

describe("isPySpace", () => {
  test("holds exactly for the code points Python's str.isspace() accepts", () => {
    const expected = new Set(PYTHON_SPACES);
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (isPySpace(cp) !== expected.has(cp)) assert.fail(`isPySpace(0x${cp.toString(16)})`);
    }
  });

  test("does not count the BOM, zero width space or U+180E", () => {
    assert.equal(isPySpace(0xfeff), false);
    assert.equal(isPySpace(0x200b), false);
    assert.equal(isPySpace(0x180e), false);
  });
});

describe("rstrip, lstrip and strip", () => {
  test("agree with Python 3.11 str.rstrip() and str.strip() on every oracle case", () => {
    for (const [input, right, both] of stripCases) {
      assert.equal(rstrip(input), right, `rstrip ${JSON.stringify(input)}`);
      assert.equal(strip(input), both, `strip ${JSON.stringify(input)}`);
    }
  });

  const table: [name: string, input: string, r: string, l: string, both: string][] = [
    ["the empty string stays empty", "", "", "", ""],
    ["all whitespace becomes empty", " \t\r\n", "", "", ""],
    ["a telnet line loses its carriage return", "hello\r", "hello", "hello\r", "hello"],
    ["whitespace inside is kept", " a b ", " a b", "a b ", "a b"],
    ["the ASCII separators 0x1c-0x1f are stripped", "\x1cx\x1f", "\x1cx", "x\x1f", "x"],
    [
      "NEL, NBSP and ideographic space are stripped",
      "\x85x\u00a0\u3000",
      "\x85x",
      "x\u00a0\u3000",
      "x",
    ],
    ["NUL is not whitespace", "\0x\0", "\0x\0", "\0x\0", "\0x\0"],
    ["a BOM is not whitespace", "\ufeffx\ufeff", "\ufeffx\ufeff", "\ufeffx\ufeff", "\ufeffx\ufeff"],
  ];
  for (const [name, input, r, l, both] of table) {
    test(name, () => {
      assert.equal(rstrip(input), r);
      assert.equal(lstrip(input), l);
      assert.equal(strip(input), both);
    });
  }

  test("rstrip gives a prefix that ends in no whitespace", () => {
    const text = fc.string({
      unit: fc.constantFrom("a", " ", "\t", "\x1c", "\u3000", "\ufeff", "\0"),
    });
    fc.assert(
      fc.property(text, (s) => {
        const r = rstrip(s);
        assert.ok(s.startsWith(r));
        assert.ok(r === "" || !isPySpace(r.charCodeAt(r.length - 1)));
        assert.ok([...s.slice(r.length)].every((c) => isPySpace(c.charCodeAt(0))));
        assert.equal(strip(s), lstrip(r));
      }),
    );
  });
});
