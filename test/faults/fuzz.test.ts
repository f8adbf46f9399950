import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { killAll } from "../../bench/lib/server.js";
import { fuzz } from "../../faults/scenarios/fuzz.js";

after(killAll);

describe("fuzzed lines", () => {
  for (const [app, lines] of [
    ["calc-server", 20_000],
    ["line-echo-server", 10_000],
  ] as const) {
    test(`${app} answers each of ${lines} fuzzed lines exactly once, as the oracle says`, async () => {
      const f = await fuzz({ app, lines, conns: 4, maxLine: 4096, seed: 7, timeoutMs: 60_000 });
      assert.ok(f.lines >= lines);
      assert.equal(f.replies, f.lines);
      assert.deepEqual(f.mismatches, []);
      assert.equal(f.wrong, 0);
      assert.equal(f.missing, 0);
      assert.equal(f.extra, 0);
      assert.equal(f.partial, 0);
      assert.deepEqual(Object.keys(f.endings), ["eof"]);
      assert.ok(!f.crashed);
      assert.equal(f.serverErrors, 0);
      assert.ok(f.probeAnswered);
    });
  }
});
