import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { killAll } from "../../bench/lib/server.js";
import { tlsAbandoned } from "../../faults/scenarios/tls-abandoned.js";

after(killAll);

describe("TLS handshakes abandoned after a partial ClientHello", () => {
  test("leave no descriptor and no error; the server goes on serving TLS", async () => {
    const f = await tlsAbandoned({
      conns: 400,
      parallel: 50,
      handshakeTimeoutS: 1,
      timeoutMs: 60_000,
    });
    assert.equal(f.endedWithFin, 200);
    assert.equal(f.endedWithReset, 200);
    assert.equal(f.connectErrors, 0);
    assert.equal(f.serverErrors, 0, f.serverErrorSample.join("\n"));
    assert.ok(f.serverAlive);
    assert.ok(f.fdsAfter <= f.fdsBefore, `${f.fdsAfter} fds after, ${f.fdsBefore} before`);
    assert.ok(f.probeAnswered);
  });
});
