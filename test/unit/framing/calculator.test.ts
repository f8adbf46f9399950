import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { CalculatorSession } from "../../../src/framing/calculator.js";
import { parsePythonInt } from "../../../src/framing/python-int.js";
import { rstrip } from "../../../src/framing/py-strip.js";
import { calcSessions } from "./python-oracle.js";

const ERROR = "ERROR. Enter only integers separated by commas\n";
const TOO_LARGE = "ERROR. Result too large (more than 4300 digits)\r\n";

function reply(session: CalculatorSession, line: string | Buffer): string {
  const bytes = typeof line === "string" ? Buffer.from(line, "utf8") : line;
  return session.handleLine(bytes).reply;
}

describe("CalculatorSession", () => {
  test("welcomes with the seed's line and starts in sum mode", () => {
    const session = new CalculatorSession();
    assert.equal(session.welcome.toString("latin1"), "<welcome: starting in sum mode>\n");
    assert.equal(session.mode, "sum");
    assert.equal(session.closed, false);
  });

  test("answers every line of the oracle sessions as the seed's Python does", () => {
    for (const [lines, replies] of calcSessions) {
      const session = new CalculatorSession();
      const got = [];
      for (const line of lines) {
        got.push(session.handleLine(Buffer.from(line, "latin1")).reply);
        if (session.closed) break;
      }
      // Where the seed crashed, the session answers instead of closing.
      const expected = replies.map((r) =>
        r === "crash:utf8" ? ERROR : r === "crash:too-large" ? TOO_LARGE : r,
      );
      assert.deepEqual(got, expected, JSON.stringify(lines));
    }
  });

  const sumTable: [name: string, line: string, expected: string][] = [
    ["sums comma-separated integers", "1,2,4", "Sum of input numbers: '7'\r\n"],
    ["a single number is its own sum", "42", "Sum of input numbers: '42'\r\n"],
    ["spaces around numbers are allowed", " 1 , 2 ", "Sum of input numbers: '3'\r\n"],
    ["a telnet carriage return is stripped", "1,2\r", "Sum of input numbers: '3'\r\n"],
    [
      "underscores are allowed as Python allows them",
      "1_000,1",
      "Sum of input numbers: '1001'\r\n",
    ],
    ["a plus sign is allowed", "+5", "Sum of input numbers: '5'\r\n"],
    ["minus zero is zero", "-0", "Sum of input numbers: '0'\r\n"],
    ["an Arabic-Indic digit counts", "\u0663,1", "Sum of input numbers: '4'\r\n"],
    [
      "results are exact beyond 2^53",
      "9007199254740993,1",
      "Sum of input numbers: '9007199254740994'\r\n",
    ],
    [
      "trailing separators are stripped before splitting",
      "1,2\x1c",
      "Sum of input numbers: '3'\r\n",
    ],
    ["an empty line is an error", "", ERROR],
    ["an empty piece is an error", "1,,2", ERROR],
    ["a trailing comma is an error", "1,", ERROR],
    ["a decimal point is an error", "1.5", ERROR],
    ["a word is an error", "hello", ERROR],
    ["a NUL byte is an error", "1\0", ERROR],
    ["a leading separator is an error", "\x1c1", ERROR],
    ["a 4301-digit number is an error, as Python's int() limit", "1".repeat(4301), ERROR],
    ["commands match exactly: case matters", "Quit", ERROR],
    ["commands match exactly: leading space matters", " sum", ERROR],
  ];
  for (const [name, line, expected] of sumTable) {
    test(name, () => assert.equal(reply(new CalculatorSession(), line), expected));
  }

  test("bytes that are not UTF-8 answer the error line and keep the session", () => {
    const session = new CalculatorSession();
    for (const bad of [[0xff], [0x31, 0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xb1]]) {
      const result = session.handleLine(Uint8Array.from(bad));
      assert.deepEqual(result, { reply: ERROR, close: false });
    }
    assert.equal(reply(session, "1,2"), "Sum of input numbers: '3'\r\n");
  });

  test("a UTF-8 BOM is kept, so it is not a number", () => {
    assert.equal(reply(new CalculatorSession(), Buffer.from("\ufeff1")), ERROR);
  });

  test("switches modes on sum and product, per session", () => {
    const a = new CalculatorSession();
    const b = new CalculatorSession();
    assert.equal(reply(a, "product"), "<switching to product mode>\r\n");
    assert.equal(a.mode, "product");
    assert.equal(reply(a, "5,-9,10"), "Product of input numbers: '-450'\r\n");
    assert.equal(reply(b, "5,-9,10"), "Sum of input numbers: '6'\r\n");
    assert.equal(reply(a, "sum \r"), "<switching to sum mode>\r\n");
    assert.equal(a.mode, "sum");
  });

  test("quit answers connection closed and asks to close", () => {
    const session = new CalculatorSession();
    const result = session.handleLine(Buffer.from("quit\r"));
    assert.deepEqual(result, { reply: "connection closed\r\n", close: true });
    assert.equal(session.closed, true);
  });

  test("a line after quit is refused", () => {
    const session = new CalculatorSession();
    session.handleLine(Buffer.from("quit"));
    assert.throws(() => session.handleLine(Buffer.from("1")), {
      message: "Cannot handle line: the session was closed by quit",
    });
  });

  test("reports the line to log for every non-command line, valid or not", () => {
    const session = new CalculatorSession();
    assert.equal(session.handleLine(Buffer.from(" 1,2 \r")).numbers, " 1,2");
    assert.equal(session.handleLine(Buffer.from("hello")).numbers, "hello");
    assert.equal(session.handleLine(Buffer.from("")).numbers, "");
    assert.equal(session.handleLine(Buffer.from("sum")).numbers, undefined);
    assert.equal(session.handleLine(Uint8Array.from([0xff])).numbers, undefined);
  });

  test("a sum of 4300 digits is given, one of 4301 refused", () => {
    const session = new CalculatorSession();
    const nines = "9".repeat(4300);
    assert.equal(
      reply(session, `${nines},-1`),
      `Sum of input numbers: '${nines.slice(0, -1)}8'\r\n`,
    );
    assert.equal(reply(session, `-${nines},0`), `Sum of input numbers: '-${nines}'\r\n`);
    assert.equal(reply(session, `${nines},1`), TOO_LARGE);
    assert.equal(reply(session, `-${nines},-1`), TOO_LARGE);
  });

  test("a product of 4300 digits is given, one of 4301 refused", () => {
    const session = new CalculatorSession();
    reply(session, "product");
    assert.equal(
      reply(session, Array(4506).fill("9").join(",")),
      `Product of input numbers: '${9n ** 4506n}'\r\n`,
    );
    assert.equal(reply(session, Array(4507).fill("9").join(",")), TOO_LARGE);
    assert.equal(reply(session, `${"9".repeat(2150)},${"9".repeat(2150)}`).length, 4300 + 30);
    assert.equal(reply(session, `${"9".repeat(2150)},${"9".repeat(2151)}`), TOO_LARGE);
  });

  test("a product with a zero is zero however large the other factors", () => {
    const session = new CalculatorSession();
    reply(session, "product");
    const big = "9".repeat(4300);
    assert.equal(reply(session, `${big},${big},${big},0`), "Product of input numbers: '0'\r\n");
  });

  test("a product far over the limit is refused from its estimate, quickly", () => {
    const session = new CalculatorSession();
    reply(session, "product");
    const line = Array(30).fill("9".repeat(4300)).join(",");
    const started = performance.now();
    for (let i = 0; i < 100; i++) assert.equal(reply(session, line), TOO_LARGE);
    assert.ok(performance.now() - started < 5000, "refusing must not take long");
  });

  test("maxResultDigits and maxDigits set the limits", () => {
    const session = new CalculatorSession({ maxDigits: 3, maxResultDigits: 3 });
    assert.equal(reply(session, "999,0"), "Sum of input numbers: '999'\r\n");
    assert.equal(reply(session, "999,1"), "ERROR. Result too large (more than 3 digits)\r\n");
    assert.equal(reply(session, "1000"), ERROR);
    reply(session, "product");
    assert.equal(reply(session, "10,99"), "Product of input numbers: '990'\r\n");
    assert.equal(reply(session, "10,100"), "ERROR. Result too large (more than 3 digits)\r\n");
    const unlimited = new CalculatorSession({ maxResultDigits: Number.POSITIVE_INFINITY });
    assert.equal(
      reply(unlimited, `${"9".repeat(4300)},1`),
      `Sum of input numbers: '1${"0".repeat(4300)}'\r\n`,
    );
  });

  test("options that are not positive integers or Infinity are refused", () => {
    for (const bad of [0, -1, 2.5, Number.NaN]) {
      assert.throws(() => new CalculatorSession({ maxDigits: bad }), RangeError);
      assert.throws(() => new CalculatorSession({ maxResultDigits: bad }), {
        name: "RangeError",
        message: `Invalid maxResultDigits: expected a positive integer or Infinity, got ${bad}`,
      });
    }
    assert.throws(() => new CalculatorSession({ maxDigits: "9" as unknown as number }), TypeError);
  });

  test("sums and products are the exact bigint results", () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), {
          minLength: 1,
          maxLength: 12,
        }),
        (nums) => {
          const line = nums.join(",");
          const sum = nums.reduce((a, b) => a + b, 0n);
          const product = nums.reduce((a, b) => a * b, 1n);
          const session = new CalculatorSession();
          assert.equal(reply(session, line), `Sum of input numbers: '${sum}'\r\n`);
          reply(session, "product");
          assert.equal(reply(session, line), `Product of input numbers: '${product}'\r\n`);
        },
      ),
    );
  });

  test("the byte-level fast path answers exactly as Python's int() rules on any ASCII line", () => {
    // The oracle: the line split on commas, each piece through parsePythonInt.
    const expected = (line: string, mode: "sum" | "product"): string => {
      const text = rstrip(line);
      if (text === "quit" || text === "sum" || text === "product") return "command";
      let nums: bigint[];
      try {
        nums = text.split(",").map((piece) => parsePythonInt(piece));
      } catch {
        return ERROR;
      }
      const result =
        mode === "sum" ? nums.reduce((a, b) => a + b, 0n) : nums.reduce((a, b) => a * b, 1n);
      const label = mode === "sum" ? "Sum" : "Product";
      return `${label} of input numbers: '${result}'\r\n`;
    };
    const alphabet = fc.constantFrom(..."0123456789,,+-_ \t\r9".split(""));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), fc.boolean(), (chars, product) => {
        const line = chars.join("");
        const session = new CalculatorSession();
        if (product) reply(session, "product");
        const want = expected(line, product ? "product" : "sum");
        if (want !== "command") assert.equal(reply(session, line), want, JSON.stringify(line));
      }),
      { numRuns: 5000 },
    );
  });

  test("answer(bytes, start, end) reads only its range: the same reply and log line as handleLine", () => {
    const alphabet = fc.constantFrom(..."0123456789,+-_ \t\rsumproductquit\xff".split(""));
    const text = fc.array(alphabet, { maxLength: 30 }).map((chars) => chars.join(""));
    fc.assert(
      fc.property(text, text, text, fc.boolean(), (before, line, after, product) => {
        // No separator around the range: the bytes next to it may be digits too.
        const bytes = Buffer.from(`${before}${line}${after}`, "latin1");
        const start = before.length;
        const end = start + line.length;
        const byRange = new CalculatorSession();
        const whole = new CalculatorSession();
        if (product) {
          byRange.handleLine(Buffer.from("product"));
          whole.handleLine(Buffer.from("product"));
        }
        const expected = whole.handleLine(Buffer.from(line, "latin1"));
        assert.equal(byRange.answer(bytes, start, end), expected.reply, JSON.stringify(line));
        assert.equal(byRange.logged, expected.numbers);
        assert.equal(byRange.closed, expected.close);
      }),
      { numRuns: 5000 },
    );
  });

  test("plainResult is the fast path's result: answer's reply holds it, and it is undefined for any other line", () => {
    const alphabet = fc.constantFrom(..."0123456789,,+-_ \t\r9sumquit\xff".split(""));
    // Half the lines are any bytes of the alphabet, half lines of numbers, most of
    // which the fast path takes: the property is tested on both of its sides.
    const numbers = fc
      .array(
        fc.oneof(
          { arbitrary: fc.integer({ min: -99_999, max: 99_999 }), weight: 4 },
          { arbitrary: fc.maxSafeInteger(), weight: 1 },
        ),
        {
          minLength: 1,
          maxLength: 6,
        },
      )
      .map((values) => values.join(","));
    const lines = fc.oneof(
      fc.array(alphabet, { maxLength: 40 }).map((chars) => chars.join("")),
      numbers,
    );
    let plain = 0;
    fc.assert(
      fc.property(lines, fc.boolean(), fc.boolean(), (text, product, reportNumbers) => {
        const line = Buffer.from(text, "latin1");
        const bytes = Buffer.concat([Buffer.from("7"), line, Buffer.from("7")]);
        const fast = new CalculatorSession({ reportNumbers });
        const slow = new CalculatorSession({ reportNumbers });
        if (product) {
          fast.handleLine(Buffer.from("product"));
          slow.handleLine(Buffer.from("product"));
        }
        const result = fast.plainResult(bytes, 1, 1 + line.length);
        const expected = slow.answer(line, 0, line.length);
        if (result === undefined) {
          // The line goes on to answer, as if plainResult had never seen it.
          assert.equal(fast.answer(line, 0, line.length), expected);
          assert.equal(fast.mode, slow.mode);
        } else {
          plain++;
          assert.ok(Number.isSafeInteger(result) && !Object.is(result, -0));
          const label = product ? "Product" : "Sum";
          assert.equal(
            `${label} of input numbers: '${result}'\r\n`,
            expected,
            line.toString("latin1"),
          );
        }
        assert.equal(fast.logged, slow.logged);
      }),
      { numRuns: 5000 },
    );
    // Measured about 1,400 of the 5,000 (most lines of numbers fit; few others do).
    assert.ok(plain > 500, `only ${plain} lines took the fast path`);
  });

  test("plainResult honours maxResultDigits and stops at quit", () => {
    const session = new CalculatorSession({ maxResultDigits: 3 });
    const line = (text: string) => Buffer.from(text);
    assert.equal(session.plainResult(line("999,0"), 0, 5), 999);
    assert.equal(session.plainResult(line("-999"), 0, 4), -999);
    assert.equal(session.plainResult(line("999,1"), 0, 5), undefined);
    assert.equal(
      session.answer(line("999,1"), 0, 5),
      "ERROR. Result too large (more than 3 digits)\r\n",
    );
    assert.equal(session.plainResult(line("-0"), 0, 2), 0);
    // A safe integer has up to 16 digits: the limits just below and at that count.
    const sixteen = line("999999999999999,1");
    for (const [maxResultDigits, expected] of [
      [15, undefined],
      [16, 1_000_000_000_000_000],
    ] as const) {
      const limited = new CalculatorSession({ maxResultDigits });
      assert.equal(limited.plainResult(sixteen, 0, sixteen.length), expected);
      const reply =
        expected === undefined
          ? "ERROR. Result too large (more than 15 digits)\r\n"
          : "Sum of input numbers: '1000000000000000'\r\n";
      assert.equal(limited.answer(sixteen, 0, sixteen.length), reply);
    }
    session.answer(line("quit"), 0, 4);
    assert.equal(session.plainResult(line("1"), 0, 1), undefined);
  });
});
