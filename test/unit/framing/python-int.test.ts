import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  decimalDigitValue,
  PYTHON_INT_MAX_STR_DIGITS,
  parsePythonInt,
} from "../../../src/framing/python-int.js";
import { intCases } from "./python-oracle.js";

function outcome(text: string, maxDigits?: number): string {
  try {
    return parsePythonInt(text, maxDigits).toString();
  } catch (error) {
    return (error as Error).constructor.name;
  }
}

describe("parsePythonInt", () => {
  test("agrees with Python 3.11 int() on every oracle case", () => {
    for (const [input, expected] of intCases) {
      assert.equal(outcome(input), expected, `int(${JSON.stringify(input)})`);
    }
  });

  const table: [name: string, input: string, expected: string][] = [
    ["an empty string is invalid", "", "SyntaxError"],
    ["whitespace alone is invalid", " \t ", "SyntaxError"],
    ["surrounding ASCII whitespace is allowed", "\t\n\v\f\r 42 \r\n", "42"],
    ["a plus sign is allowed", "+5", "5"],
    ["minus zero is zero", "-0", "0"],
    ["leading zeros are allowed", "007", "7"],
    ["single underscores between digits are allowed", "1_000_000", "1000000"],
    ["an underscore after a leading zero is allowed", "0_7", "7"],
    ["a leading underscore is invalid", "_1", "SyntaxError"],
    ["a trailing underscore is invalid", "1_", "SyntaxError"],
    ["a doubled underscore is invalid", "1__0", "SyntaxError"],
    ["an underscore after the sign is invalid", "-_1", "SyntaxError"],
    ["space between sign and digits is invalid", "- 1", "SyntaxError"],
    ["two signs are invalid", "+-1", "SyntaxError"],
    ["space between digits is invalid", "1 2", "SyntaxError"],
    ["a decimal point is invalid", "1.0", "SyntaxError"],
    ["an exponent is invalid", "1e3", "SyntaxError"],
    ["a hex prefix is invalid", "0x10", "SyntaxError"],
    ["an Arabic-Indic digit counts", "\u0663", "3"],
    ["digits of different scripts mix", "1\u0663_\uff19", "139"],
    ["a mathematical digit outside the BMP counts", "\u{1d7d5}", "7"],
    ["a superscript is not a digit", "\u00b2", "SyntaxError"],
    ["Kawi digits (Unicode 15) are not digits for Python 3.11", "\u{11f53}", "SyntaxError"],
    ["non-ASCII whitespace is allowed around", "\u00a0\u30001\u2028\u0085", "1"],
    ["the ASCII separator 0x1c is not whitespace for int()", "\x1c1", "SyntaxError"],
    ["a NUL byte is invalid", "1\0", "SyntaxError"],
    ["a zero width space is invalid", "1\u200b", "SyntaxError"],
    ["a BOM is invalid", "\ufeff1", "SyntaxError"],
    ["a lone surrogate is invalid", "1\ud800", "SyntaxError"],
    ["a comma is invalid", "1,2", "SyntaxError"],
    ["a 4300-digit number is accepted", "9".repeat(4300), (10n ** 4300n - 1n).toString()],
    ["a 4301-digit number is too long", "1".repeat(4301), "RangeError"],
    ["leading zeros count towards the limit", "0".repeat(4301), "RangeError"],
    ["underscores do not count towards the limit", `${"1_".repeat(4299)}1`, "1".repeat(4300)],
    ["the sign does not count towards the limit", `-${"9".repeat(4300)}`, `-${"9".repeat(4300)}`],
    ["too many digits wins over trailing garbage", `${"1".repeat(4301)}x`, "RangeError"],
    ["a bad underscore wins over too many digits", `${"1".repeat(4301)}_`, "SyntaxError"],
    ["leading garbage wins over too many digits", `x${"1".repeat(4301)}`, "SyntaxError"],
    ["non-ASCII digits count towards the limit", "\u0661".repeat(4301), "RangeError"],
  ];
  for (const [name, input, expected] of table) {
    test(`${name}`, () => assert.equal(outcome(input), expected));
  }

  test("the default limit is Python's 4300 digits", () => {
    assert.equal(PYTHON_INT_MAX_STR_DIGITS, 4300);
  });

  test("maxDigits sets the limit, Infinity lifts it", () => {
    assert.equal(outcome("123", 3), "123");
    assert.equal(outcome("1234", 3), "RangeError");
    assert.equal(outcome("1_2_3_4", 3), "RangeError");
    assert.equal(outcome("9".repeat(5000), Number.POSITIVE_INFINITY), "9".repeat(5000));
  });

  test("an invalid literal names the text as Python's ascii() shows it", () => {
    assert.throws(() => parsePythonInt("caf\u00e9"), {
      name: "SyntaxError",
      message: "Invalid literal for int() with base 10: 'caf\\xe9'",
    });
  });

  test("an invalid literal message shows at most 200 characters", () => {
    assert.throws(() => parsePythonInt(`x${"1".repeat(500)}`), {
      message: `Invalid literal for int() with base 10: 'x${"1".repeat(199)}'`,
    });
  });

  test("too many digits says the limit and the count", () => {
    assert.throws(() => parsePythonInt("1".repeat(4301)), {
      name: "RangeError",
      message:
        "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits",
    });
  });

  test("a maxDigits that is not a positive integer or Infinity is refused", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.NEGATIVE_INFINITY]) {
      assert.throws(() => parsePythonInt("1", bad), RangeError, String(bad));
    }
    assert.throws(() => parsePythonInt("1", "10" as unknown as number), TypeError);
  });

  test("parsing bigint.toString() gives the bigint back", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 200n), max: 10n ** 200n }), (n) => {
        assert.equal(parsePythonInt(n.toString()), n);
      }),
    );
  });

  test("underscores between digits and surrounding whitespace keep the value", () => {
    const space = fc.constantFrom(" ", "\t", "\u00a0", "\u3000", "\n");
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 60n }),
        fc.array(fc.boolean(), { maxLength: 61 }),
        fc.array(space, { maxLength: 3 }),
        fc.array(space, { maxLength: 3 }),
        (n, underscores, before, after) => {
          const digits = [...n.toString()];
          const text = digits.map((d, i) => (i > 0 && underscores[i] ? `_${d}` : d)).join("");
          assert.equal(parsePythonInt(`${before.join("")}-${text}${after.join("")}`), -n);
        },
      ),
    );
  });
});

describe("decimalDigitValue", () => {
  test("gives the value of ASCII and other-script digits", () => {
    assert.equal(decimalDigitValue(0x30), 0);
    assert.equal(decimalDigitValue(0x39), 9);
    assert.equal(decimalDigitValue(0x0663), 3);
    assert.equal(decimalDigitValue(0xff19), 9);
    assert.equal(decimalDigitValue(0x1d7ff), 9);
    assert.equal(decimalDigitValue(0x1fbf9), 9);
  });

  test("gives -1 for letters, superscripts and digits newer than Unicode 14", () => {
    for (const cp of [0x2f, 0x3a, 0x41, 0xb2, 0x2460, 0x11f50, 0x1e4f0, 0x10ffff]) {
      assert.equal(decimalDigitValue(cp), -1, cp.toString(16));
    }
  });

  test("every digit it knows is a decimal digit for JavaScript too", () => {
    for (let cp = 0; cp < 0x20000; cp++) {
      const value = decimalDigitValue(cp);
      if (value >= 0) assert.match(String.fromCodePoint(cp), /^\p{Nd}$/u, cp.toString(16));
    }
  });
});
