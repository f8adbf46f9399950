import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { killAll } from "../../bench/lib/server.js";
import { type SlowlorisParams, slowloris } from "../../faults/scenarios/slowloris.js";

after(killAll);

const SMALL: SlowlorisParams = {
  conns: 50,
  startBytes: 2,
  lineTimeoutSeconds: 1,
  dripMs: 200,
  legitConns: 5,
  legitSeconds: 0.3,
  slackMs: 10_000,
  timeoutMs: 60_000,
};

describe("slowloris against the calculator", () => {
  test("lines that never end are closed by --line-timeout while a legitimate client is served", async () => {
    const f = await slowloris(SMALL);
    assert.ok(f.lineTimeoutFlag, "calc-server has --line-timeout");
    assert.equal(f.connected, 50);
    assert.equal(f.reclaimed, 50);
    assert.equal(f.stillOpen, 0);
    assert.equal(f.baseline.errors, 0);
    assert.equal(f.underAttack.errors, 0);
    assert.ok(f.underAttack.replies > 0);
    assert.ok(f.fdsAfter <= f.fdsBefore + 2, `${f.fdsAfter} fds after, ${f.fdsBefore} before`);
    assert.ok(f.serverAlive);
    assert.ok(f.probeAnswered);
  });

  test("lines held just under --max-line are reclaimed too, and cost bounded memory", async () => {
    const f = await slowloris({ ...SMALL, startBytes: 65_472 });
    assert.equal(f.reclaimed, 50);
    // Each is told why before the close (the tally writes the number of seconds as N).
    assert.deepEqual(Object.keys(f.replies), ["ERROR. Line not completed within N s\r"]);
    assert.ok(f.rssHeldKb - f.rssBeforeKb < 64 * 1024, `grew ${f.rssHeldKb - f.rssBeforeKb} KiB`);
    assert.ok(f.serverAlive);
    assert.ok(f.probeAnswered);
  });
});
