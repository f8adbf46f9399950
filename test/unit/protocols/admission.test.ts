import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Admission } from "../../../src/protocols/admission.js";

/** What waits in the queue in these tests: a name, and whether it closed while waiting. */
interface Item {
  name: string;
  gone?: boolean;
}

const admission = (limits: ConstructorParameters<typeof Admission>[0]) =>
  new Admission<Item>(limits, (item) => item.gone === true);

describe("Admission", () => {
  test("without limits every connection is admitted and starts at once", () => {
    const door = admission({});
    for (let i = 0; i < 100; i++) {
      assert.equal(door.admit("10.0.0.1"), undefined);
      assert.equal(door.claimSession({ name: `c${i}` }), true);
    }
    assert.equal(door.countsOpen, false, "no limit needs the count, so none is kept");
    assert.equal(door.open, 0);
    assert.equal(door.active, 100);
    assert.equal(door.waiting, 0);
  });

  test("maxConnections refuses while that many are open, and a release makes room", () => {
    const door = admission({ maxConnections: 2 });
    assert.equal(door.countsOpen, true);
    assert.equal(door.admit("a"), undefined);
    assert.equal(door.admit(undefined), undefined);
    assert.equal(door.admit("b"), "maxConnections");
    assert.equal(door.open, 2, "a refused connection does not count");
    door.release("a");
    assert.equal(door.admit("b"), undefined);
  });

  test("maxConnectionsPerPeer counts each address on its own and ignores connections without one", () => {
    const door = admission({ maxConnectionsPerPeer: 1 });
    assert.equal(door.countsPeers, true);
    assert.equal(door.admit("10.0.0.1"), undefined);
    assert.equal(door.admit("10.0.0.1"), "maxConnectionsPerPeer");
    assert.equal(door.admit("10.0.0.2"), undefined);
    assert.equal(door.admit(undefined), undefined);
    assert.equal(door.admit(undefined), undefined, "a Unix socket has no peer to count");
    door.release("10.0.0.1");
    assert.equal(door.admit("10.0.0.1"), undefined);
    assert.equal(door.open, 4);
  });

  test("maxConnections is checked before the per-peer limit", () => {
    const door = admission({ maxConnections: 1, maxConnectionsPerPeer: 1 });
    door.admit("10.0.0.1");
    assert.equal(door.admit("10.0.0.1"), "maxConnections");
  });

  test("maxSessions queues in arrival order and hands each ended session to the next one still there", () => {
    const door = admission({ maxSessions: 1 });
    const [a, b, c, d] = ["a", "b", "c", "d"].map((name): Item => ({ name }));
    assert.equal(door.claimSession(a), true);
    for (const item of [b, c, d]) assert.equal(door.claimSession(item), false);
    assert.equal(door.waiting, 3);
    b.gone = true;
    assert.deepEqual(door.endSession(), [c], "b closed while waiting and is skipped");
    assert.equal(door.active, 1);
    assert.deepEqual(door.endSession(), [d]);
    assert.deepEqual(door.endSession(), []);
    assert.equal(door.active, 0);
    assert.equal(door.waiting, 0);
  });

  test("takeWaiting empties the queue and leaves the active sessions", () => {
    const door = admission({ maxSessions: 2 });
    const items = ["a", "b", "c", "d"].map((name) => ({ name }));
    for (const item of items) door.claimSession(item);
    assert.deepEqual(door.takeWaiting(), items.slice(2));
    assert.equal(door.waiting, 0);
    assert.equal(door.active, 2);
    assert.deepEqual(door.endSession(), []);
  });
});
