import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Logger } from "../../src/apps/logger.js";
import { WarnLimiter } from "../../src/cli/warn-limiter.js";
import { waitFor } from "../helpers/with-timeout.js";
import { TIMEOUT } from "./cli-helpers.js";

/** A limiter, two loggers that record into one list, and a clock the test moves. */
function limiter(interval = 1000) {
  const lines: string[] = [];
  const write = (line: string) => lines.push(line.trimEnd());
  const [a, b] = [
    new Logger("calc_10.0.0.1_5000", { write }),
    new Logger("calc_10.0.0.2_6000", { write }),
  ];
  const clock = { now: 0 };
  const warnings = new WarnLimiter({ interval, now: () => clock.now });
  return { warnings, lines, clock, a, b };
}

describe("WarnLimiter", () => {
  test("writes the first warning at once, on its own logger", () => {
    const { warnings, lines, a } = limiter();
    warnings.warn(a, "refused: client certificate rejected: no certificate");
    assert.deepEqual(lines, [
      "calc_10.0.0.1_5000: WARN: refused: client certificate rejected: no certificate",
    ]);
    warnings.close();
    assert.equal(lines.length, 1, "nothing held");
  });

  test("a flood within the interval is one more line: the last warning, with the count of the others", () => {
    const { warnings, lines, clock, a, b } = limiter();
    warnings.warn(a, "refused: first");
    for (let i = 0; i < 999; i++) {
      clock.now = i;
      warnings.warn(i % 2 === 0 ? a : b, `refused: number ${i}`);
    }
    assert.equal(lines.length, 1, "one line for the first second");
    warnings.close();
    assert.deepEqual(lines.slice(1), [
      "calc_10.0.0.1_5000: WARN: refused: number 998 (998 more since the last report)",
    ]);
    warnings.close();
    assert.equal(lines.length, 2, "nothing more to write");
  });

  test("writes the held warning when the interval is over, as it is when it stands alone", async () => {
    const { warnings, lines, clock, a, b } = limiter(50);
    warnings.warn(a, "refused: one");
    clock.now = 10;
    warnings.warn(b, "refused: two");
    assert.equal(lines.length, 1);
    clock.now = 60;
    await waitFor(() => lines.length >= 2, TIMEOUT, "the held warn line");
    assert.equal(lines[1], "calc_10.0.0.2_6000: WARN: refused: two");
    warnings.close();
  });

  test("writes at once again once the interval has passed", () => {
    const { warnings, lines, clock, a } = limiter();
    warnings.warn(a, "refused: one");
    clock.now = 1000;
    warnings.warn(a, "refused: two");
    assert.equal(lines.length, 2);
    warnings.close();
  });
});
