import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { killAll } from "../../bench/lib/server.js";
import { resets } from "../../faults/scenarios/resets.js";

after(killAll);

describe("connections reset (SO_LINGER 0) in the middle of a burst", () => {
  for (const [app, payloadBytes] of [
    ["calc-server", 8192],
    ["echo-server", 65_536],
  ] as const) {
    test(`${app} logs no error, leaks no descriptor and goes on answering`, async () => {
      const f = await resets({ app, conns: 200, parallel: 50, payloadBytes, timeoutMs: 60_000 });
      assert.equal(f.resetAfterReply + f.resetMidSend + f.closedByServer, 200);
      assert.equal(f.connectErrors, 0);
      assert.equal(f.serverErrors, 0, f.serverErrorSample.join("\n"));
      assert.ok(f.serverAlive);
      assert.ok(f.fdsAfter <= f.fdsBefore, `${f.fdsAfter} fds after, ${f.fdsBefore} before`);
      assert.ok(f.probeAnswered);
    });
  }
});
