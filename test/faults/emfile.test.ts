import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { killAll } from "../../bench/lib/server.js";
import { type EmfileFigures, emfile } from "../../faults/scenarios/emfile.js";

after(killAll);

describe("out of file descriptors (ulimit -n 64, 100 connections)", () => {
  let figures: Promise<EmfileFigures> | undefined;
  const run = () =>
    (figures ??= emfile({ fdLimit: 64, conns: 100, settleMs: 2000, timeoutMs: 60_000 }));

  test("the calculator runs out of descriptors, stays up, and answers new clients once they are freed", async () => {
    const f = await run();
    assert.ok(f.welcomed > 0 && f.welcomed < 100, `${f.welcomed} welcomed`);
    assert.equal(f.welcomed + f.refused + f.hanging + f.connectFailed, 100);
    assert.ok(f.aliveUnderPressure);
    assert.ok(f.recovered);
    assert.equal(f.answeredAfter, 10);
    assert.ok(f.fdsAfter <= f.fdsBefore);
  });

  test("the calculator refuses what its descriptors cannot hold and logs it, at most about once a second", async () => {
    const f = await run();
    assert.ok(f.acceptReports > 0, "no refusal or accept error was logged");
    assert.ok(f.acceptReports <= Math.ceil(f.seconds) + 1);
  });
});
