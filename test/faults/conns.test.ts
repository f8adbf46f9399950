import assert from "node:assert/strict";
import { after, test } from "node:test";
import { killAll } from "../../bench/lib/server.js";
import { conns } from "../../faults/scenarios/conns.js";

after(killAll);

test("the calculator holds 200 connections at once (counted while held), answers every one and releases their descriptors", async () => {
  const f = await conns({ conns: 200, holdSeconds: 0.3, timeoutMs: 60_000 });
  assert.equal(f.loadgenError, undefined);
  assert.equal(f.answered, 200);
  assert.ok(f.replies >= 200, `replies: ${f.replies}`);
  assert.equal(f.badReplies, 0);
  assert.equal(f.connErrors, 0);
  assert.equal(f.holdError, undefined);
  assert.equal(f.heldConnected, 200);
  // Counted while the 200 idle connections are held open, not a sampled peak.
  assert.ok(
    f.socketsHeld >= f.socketsBefore + 200,
    `${f.socketsHeld} sockets held, ${f.socketsBefore} before`,
  );
  assert.ok(f.fdsAfter <= f.fdsBefore + 2, `${f.fdsAfter} fds after, ${f.fdsBefore} before`);
  assert.ok(f.serverAlive);
  assert.ok(f.probeAnswered);
  assert.deepEqual(f.problems, []);
});
