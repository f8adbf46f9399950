import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { killAll } from "../../bench/lib/server.js";
import { tlsNoHello } from "../../faults/scenarios/tls-no-hello.js";

after(killAll);

describe("TLS connections that never send a ClientHello", () => {
  test("are all closed by --tls-handshake-timeout, fds back, a TLS client answered beside them", async () => {
    const f = await tlsNoHello({
      conns: 300,
      handshakeTimeoutS: 1,
      baselineSamples: 3,
      timeoutMs: 60_000,
    });
    assert.equal(f.connected, 300);
    assert.equal(f.closedByServer, 300);
    assert.equal(f.refusedLines, 0);
    assert.equal(f.duringFailures, 0);
    assert.ok(f.duringSamples > 0);
    assert.equal(f.serverErrors, 0);
    assert.ok(f.serverAlive);
    assert.ok(f.fdsAfter <= f.fdsBefore, `${f.fdsAfter} fds after, ${f.fdsBefore} before`);
    assert.deepEqual(f.problems, []);
  });
});
