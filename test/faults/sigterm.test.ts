import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { killAll } from "../../bench/lib/server.js";
import { type SigtermParams, sigterm } from "../../faults/scenarios/sigterm.js";

after(killAll);

const SMALL: SigtermParams = {
  app: "calc-server",
  conns: 20,
  depth: 8,
  lines: 0,
  burst: 10_000,
  warmMs: 200,
  stuckConns: 0,
  idleConns: 0,
  graceSeconds: 10,
  timeoutMs: 60_000,
};

function assertGraceful(f: Awaited<ReturnType<typeof sigterm>>): void {
  assert.equal(f.exitCode, 0, f.stopLog.join("\n"));
  assert.ok(f.sentAtMark > 0);
  assert.equal(f.lost, 0);
  assert.equal(f.bad, 0);
  assert.equal(f.partialBytes, 0);
  assert.deepEqual(Object.keys(f.endings), ["eof"]);
  if (f.burst > 0) assert.equal(f.replies, f.sentAtMark, "every line of the burst answered");
}

describe("SIGTERM under load", () => {
  test("the calculator answers every line written before the signal, ends each connection cleanly, exits 0", async () => {
    assertGraceful(await sigterm(SMALL));
  });

  test("connections still pipelining at the signal get every line answered, then EOF", async () => {
    // A grace far above what the pipelining needs even on a loaded machine: an
    // expired grace aborts (a reset), which is the next test's behaviour, not this one's.
    const f = await sigterm({
      ...SMALL,
      burst: 0,
      lines: 5_000,
      graceSeconds: 60,
      timeoutMs: 120_000,
    });
    assertGraceful(f);
    assert.equal(f.unansweredAfterMark, 0);
    assert.equal(f.replies, 20 * 5_000);
  });

  test("the line echo does the same", async () => {
    assertGraceful(await sigterm({ ...SMALL, app: "line-echo-server" }));
  });

  test("connections that never read are aborted after --grace and the exit is still 0", async () => {
    assertGraceful(await sigterm({ ...SMALL, stuckConns: 2, graceSeconds: 1 }));
  });

  test("idle connections that ignore the server's FIN do not keep it from exiting 0", async () => {
    assertGraceful(await sigterm({ ...SMALL, idleConns: 200 }));
  });
});
