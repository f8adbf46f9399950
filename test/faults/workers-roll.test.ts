import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { killAll } from "../../bench/lib/server.js";
import { type WorkersParams, workersUnderLoad } from "../../faults/scenarios/workers-roll.js";

after(killAll);

// Enough lines that the pipelining is still going when the signal or the kill comes.
const SMALL: WorkersParams = { conns: 20, depth: 8, lines: 2000, timeoutMs: 60_000 };
const skip = "Bun" in globalThis || "Deno" in globalThis;

describe("--workers 2 under load", { skip }, () => {
  test("a SIGHUP roll replaces both workers: nothing refused, no line written before it lost", async () => {
    const f = await workersUnderLoad("roll", SMALL);
    assert.deepEqual(f.problems, []);
    assert.equal(f.churnRefused, 0);
    assert.equal(f.churnLost, 0);
    assert.equal(f.lostBeforeSignal, 0);
    assert.equal(f.pidsAfter.length, 2);
    assert.ok(f.pidsAfter.every((pid) => !f.pidsBefore.includes(pid)));
  });

  test("a killed worker is replaced; the other one's connections complete", async () => {
    const f = await workersUnderLoad("crash", SMALL);
    assert.deepEqual(f.problems, []);
    assert.equal(f.churnRefused, 0);
    assert.ok(f.connsComplete > 0 && f.connsComplete < f.conns);
    assert.notEqual(f.pidsAfter[0], f.pidsBefore[0]);
    assert.equal(f.pidsAfter[1], f.pidsBefore[1]);
  });
});
