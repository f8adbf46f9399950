import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createVirtualClock } from "../../../src/testing/virtual-clock.js";

describe("createVirtualClock", () => {
  test("fires due timers in order of time, then of scheduling, each at its time", async () => {
    const clock = createVirtualClock();
    const fired: [string, number][] = [];
    clock.schedule(20, () => fired.push(["b", clock.now()]));
    clock.schedule(10, () => fired.push(["a", clock.now()]));
    clock.schedule(20, () => fired.push(["c", clock.now()]));
    clock.schedule(21, () => fired.push(["late", clock.now()]));
    await clock.advance(20);
    assert.deepEqual(fired, [
      ["a", 1010],
      ["b", 1020],
      ["c", 1020],
    ]);
    assert.equal(clock.now(), 1020);
    assert.equal(clock.pending, 1);
    assert.equal(clock.nextAt, 1021);
  });

  test("lets promises settle between timers, and fires timers they schedule", async () => {
    const clock = createVirtualClock();
    const order: string[] = [];
    clock.schedule(5, () => {
      void Promise.resolve().then(() => {
        order.push("promise after first");
        clock.schedule(1, () => order.push("scheduled by the promise"));
      });
    });
    clock.schedule(10, () => order.push("second"));
    await clock.advance(10);
    assert.deepEqual(order, ["promise after first", "scheduled by the promise", "second"]);
  });

  test("cancel() stops a timer; cancelling twice does nothing", async () => {
    const clock = createVirtualClock();
    let fired = false;
    const timer = clock.schedule(1, () => (fired = true));
    clock.cancel(timer);
    clock.cancel(timer);
    await clock.advance(5);
    assert.equal(fired, false);
  });

  test("runAll() moves time to each timer until none is left, and fails past its limit", async () => {
    const clock = createVirtualClock();
    let last = 0;
    clock.schedule(300_000, () => (last = clock.now()));
    await clock.runAll();
    assert.equal(last, 301_000);
    assert.equal(clock.pending, 0);
    const forever = () => clock.schedule(1, forever);
    forever();
    await assert.rejects(clock.runAll({ limit: 50 }), /still 1 pending after 50 fired/);
  });

  test("refuses a negative delay or advance", async () => {
    const clock = createVirtualClock();
    assert.throws(() => clock.schedule(-1, () => {}), RangeError);
    await assert.rejects(clock.advance(-1), RangeError);
  });
});
