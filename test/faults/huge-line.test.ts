import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { killAll } from "../../bench/lib/server.js";
import { HUGE_LINE_RSS_BOUND_KB, hugeLine } from "../../faults/scenarios/huge-line.js";

after(killAll);

describe("a 256 MiB line without a newline", () => {
  for (const app of ["calc-server", "line-echo-server"] as const) {
    test(`${app} answers one 'Line too long', keeps its memory and answers the next line`, async () => {
      const f = await hugeLine({ app, bytes: 2 ** 28, timeoutMs: 60_000 });
      assert.equal(f.sent, 2 ** 28, f.floodError);
      assert.equal(f.received["too-long"], 1);
      assert.ok(f.answeredAfter, JSON.stringify(f.received));
      assert.equal(f.ending, "eof");
      assert.ok(
        f.rssPeakKb - f.rssBeforeKb < HUGE_LINE_RSS_BOUND_KB,
        `grew ${f.rssPeakKb - f.rssBeforeKb} KiB`,
      );
      assert.ok(f.serverAlive);
      assert.ok(f.probeAnswered);
      assert.ok(f.fdsAfter <= f.fdsBefore);
    });
  }
});
