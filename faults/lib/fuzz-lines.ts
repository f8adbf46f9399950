/**
 * The fuzz corpus (fast-check arbitraries) and its oracle: what a line server
 * must answer to each line, as far as it can be known without the server's
 * own code.
 *
 * Items: random bytes (with and without `\n`), invalid UTF-8, arbitrary
 * Unicode, valid integer lists, malformed numbers (a table of pieces whose
 * Python `int()` value was checked with CPython 3), integers of up to 10,000
 * digits, lines around and past `--max-line`, and mode commands. No line is
 * ever `quit`, and only command items contain `sum` or `product`.
 *
 * @module
 */

import fc from "fast-check";
import type { ReplyKind } from "./replies.js";

/** One generated item; only `bytes` items may hold `\n` (several lines). */
export type Item =
  | { t: "bytes"; b: Uint8Array }
  | { t: "ints"; text: string; nums: bigint[] }
  | { t: "pieces"; text: string; nums: (bigint | null)[] }
  | { t: "huge"; text: string; digits: number }
  | { t: "cmd"; text: string; mode: "sum" | "product" | null }
  | { t: "long"; text: string };

/** What a line must be answered with: an exact reply, a kind, or anything sane (`any`). */
export interface Expectation {
  kind: ReplyKind | "any";
  reply?: string;
}

/** Python `int()` of each piece, checked with CPython 3.11 (`null`: ValueError). */
const PIECES: [string, bigint | null][] = [
  ["1_000", 1000n],
  ["1__0", null],
  ["_1", null],
  ["1_", null],
  ["+-1", null],
  ["--1", null],
  ["1.5", null],
  ["1e5", null],
  ["0x10", null],
  ["٣", 3n],
  ["１２", 12n],
  ["١٢٣", 123n],
  ["²", null],
  ["½", null],
  ["", null],
  [" ", null],
  ["∞", null],
  ["NaN", null],
  ["0b1", null],
  ["1 2", null],
  ["\t1\t", 1n],
  ["0o7", null],
  ["00", 0n],
  ["-0", 0n],
  ["+0", 0n],
  [" 12 ", 12n],
  ["٠", 0n],
  ["𝟏", 1n],
  ["߁", 1n],
  ["\u00a07\u00a0", 7n],
  ["+5", 5n],
  ["-5", -5n],
  ["1_2_3", 123n],
  ["0_0", 0n],
  ["١_٢", 12n],
  ["\x001", null],
  ["1\x00", null],
  ["१२", 12n],
  ["𝟘", 0n],
  ["- 5", null],
  ["+ 5", null],
  ["\u30001\u3000", 1n],
  ["\x1c9\x1f", null],
  ["1\r", 1n],
  ["０", 0n],
  ["9_", null],
  ["٣_", null],
  ["+_1", null],
  ["-_1", null],
  ["1 _2", null],
  ["\u20281", 1n],
  ["\u200b1", null],
  ["Ⅻ", null],
  ["一", null],
];

/** Invalid UTF-8: overlong, surrogate, past U+10FFFF, truncated, stray bytes. */
const BAD_UTF8 = [
  [0xc0, 0x80],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0xff],
  [0xfe],
  [0x80],
  [0xc3],
  [0xf0, 0x9f, 0x98],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

const COMMANDS: [string, "sum" | "product" | null][] = [
  ["sum", "sum"],
  ["product", "product"],
  ["sum\r", "sum"],
  ["product \t", "product"],
  ["sum\x0b", "sum"],
  ["product\u3000", "product"],
  [" sum", null],
  ["SUM", null],
  ["Product", null],
  ["sum,1", null],
  ["summ", null],
  ["products", null],
];

const FORBIDDEN = ["quit", "sum", "product"];
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1");

/** Whether bytes could be read as a command by a server (then only command items may hold them). */
function harmless(text: string): boolean {
  return !FORBIDDEN.some((word) => text.includes(word));
}

/** Decimal digits from a seed (a small LCG), the first one non-zero. */
function digitsFrom(count: number, seed: number): string {
  let x = seed >>> 0 || 1;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.push(String(i === 0 ? 1 + ((x >>> 16) % 9) : (x >>> 16) % 10));
  }
  return out.join("");
}

/** The arbitrary of every item, weighted. `maxLine` sets the long lines' lengths. */
export function itemArbitrary(maxLine: number): fc.Arbitrary<Item> {
  const bytes = (arb: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Item> =>
    arb.filter((b) => harmless(latin1(b))).map((b) => ({ t: "bytes", b }));
  const noNewline = fc.uint8Array({ maxLength: 80 }).map((b) => b.map((x) => (x === 10 ? 32 : x)));
  const withNewlines = fc
    .array(fc.oneof(fc.constant(10), fc.integer({ min: 0, max: 255 })), { maxLength: 80 })
    .map((xs) => Uint8Array.from(xs));
  const badUtf8 = fc
    .tuple(fc.string({ maxLength: 20 }), fc.constantFrom(...BAD_UTF8), fc.string({ maxLength: 20 }))
    .map(([a, bad, z]) => Uint8Array.from([...Buffer.from(a), ...bad, ...Buffer.from(z)]))
    .map((b) => b.map((x) => (x === 10 ? 32 : x)));
  const unicode = fc
    .string({ unit: "binary", maxLength: 40 })
    .map((s) => new Uint8Array(Buffer.from(s.replaceAll("\n", " "), "utf8")));
  const small = fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n });
  const ints = fc
    .tuple(fc.array(small, { minLength: 1, maxLength: 20 }), fc.boolean(), fc.boolean())
    .map(([nums, spaced, cr]): Item => {
      const text = nums.map((n) => (spaced ? ` ${n} ` : String(n))).join(",") + (cr ? "\r" : "");
      return { t: "ints", text, nums };
    });
  const pieces = fc
    .array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 6 })
    .map((ps): Item => ({
      t: "pieces",
      text: ps.map((p) => p[0]).join(","),
      nums: ps.map((p) => p[1]),
    }));
  const huge = fc
    .record({
      digits: fc.integer({ min: 1, max: 10_000 }),
      sign: fc.constantFrom("", "-", "+"),
      seed: fc.integer(),
    })
    .map(({ digits, sign, seed }): Item => ({
      t: "huge",
      text: sign + digitsFrom(digits, seed),
      digits,
    }));
  const long = fc
    .tuple(fc.constantFrom(maxLine - 1, maxLine, maxLine + 1, 2 * maxLine), fc.boolean())
    .map(([n, cr]): Item => ({ t: "long", text: cr ? `${"9".repeat(n - 1)}\r` : "9".repeat(n) }));
  const cmd = fc.constantFrom(...COMMANDS).map(([text, mode]): Item => ({ t: "cmd", text, mode }));
  return fc.oneof(
    { arbitrary: bytes(noNewline), weight: 200 },
    { arbitrary: bytes(withNewlines), weight: 100 },
    { arbitrary: bytes(badUtf8), weight: 100 },
    { arbitrary: bytes(unicode), weight: 100 },
    { arbitrary: ints, weight: 250 },
    { arbitrary: pieces, weight: 150 },
    { arbitrary: cmd, weight: 30 },
    { arbitrary: huge, weight: 10 },
    { arbitrary: long, weight: 2 },
  );
}

/** The item's bytes, each line ended by `\n`. */
export function itemBytes(item: Item): Buffer {
  const body = item.t === "bytes" ? Buffer.from(item.b) : Buffer.from(item.text, "utf8");
  return Buffer.concat([body, Buffer.from("\n")]);
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function isUtf8(line: Uint8Array): boolean {
  try {
    UTF8.decode(line);
    return true;
  } catch {
    return false;
  }
}

/** Oracle limits: the servers' defaults unless the scenario sets them. */
export interface OracleOptions {
  app: "calc-server" | "line-echo-server";
  maxLine: number;
  maxDigits: number;
}

/** Per-connection oracle state: the calculator's mode. */
export class Oracle {
  readonly #o: OracleOptions;
  #mode: "sum" | "product" = "sum";

  constructor(options: OracleOptions) {
    this.#o = options;
  }

  /** The expectation of every line of `item`, in order, updating the mode. */
  expect(item: Item): Expectation[] {
    const bytes = itemBytes(item);
    const lines: Buffer[] = [];
    for (let at = 0; at < bytes.length;) {
      const nl = bytes.indexOf(10, at);
      lines.push(bytes.subarray(at, nl));
      at = nl + 1;
    }
    return lines.map((line) => this.#line(line, item));
  }

  #line(line: Buffer, item: Item): Expectation {
    if (line.length > this.#o.maxLine) return { kind: "too-long" };
    if (this.#o.app === "line-echo-server") {
      if (item.t === "ints")
        return { kind: "echoed", reply: `Echoed: '${item.text.trimEnd()}'\r\n` };
      return { kind: isUtf8(line) ? "echoed" : "not-utf8" };
    }
    switch (item.t) {
      case "bytes":
        return isUtf8(line) ? { kind: "any" } : { kind: "not-integers" };
      case "ints":
      case "pieces":
        return this.#numbers(item.nums);
      case "huge":
        return item.digits > this.#o.maxDigits
          ? { kind: "not-integers" }
          : this.#numbers([BigInt(item.text)]);
      case "long": {
        const digits = item.text.trimEnd();
        return digits.length > this.#o.maxDigits
          ? { kind: "not-integers" }
          : this.#numbers([BigInt(digits)]);
      }
      case "cmd":
        if (item.mode === null) return { kind: "not-integers" };
        this.#mode = item.mode;
        return { kind: "switch", reply: `<switching to ${item.mode} mode>\r\n` };
    }
  }

  #numbers(nums: (bigint | null)[]): Expectation {
    if (nums.some((n) => n === null)) return { kind: "not-integers" };
    const ns = nums as bigint[];
    const sum = this.#mode === "sum";
    const value = sum ? ns.reduce((a, b) => a + b, 0n) : ns.reduce((a, b) => a * b, 1n);
    const digits = (value < 0n ? -value : value).toString().length;
    if (digits > this.#o.maxDigits) return { kind: "too-large" };
    const label = sum ? "Sum" : "Product";
    return { kind: sum ? "sum" : "product", reply: `${label} of input numbers: '${value}'\r\n` };
  }
}

/** Whether `reply` (a line with its `\n`, of kind `kind`) meets `e`. */
export function meets(e: Expectation, kind: ReplyKind, reply: string): boolean {
  if (e.reply !== undefined) return reply === e.reply;
  if (e.kind === "any") return !["too-long", "other", "closed", "welcome"].includes(kind);
  return kind === e.kind;
}
