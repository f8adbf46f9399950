import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  kExpire,
  kProgress,
  kSeen,
  kSeenAt,
  NOT_TIMED,
  Sweeper,
  SweeperPool,
  sweepPeriod,
  timeoutSlack,
  type Watched,
} from "../../../src/protocols/sweeper.js";
import { VirtualClock } from "../../helpers/virtual-clock.js";

/** An item whose progress the test sets; records when it expired. */
class Item implements Watched {
  progress = 0;
  expiredAt: number | undefined;
  [kSeen] = 0;
  [kSeenAt] = 0;
  constructor(readonly clock: VirtualClock) {}
  [kProgress](): number {
    return this.progress;
  }
  [kExpire](): void {
    this.expiredAt = this.clock.now();
  }
}

describe("Sweeper", () => {
  for (const timeout of [100, 1000, 30_000]) {
    const slack = timeoutSlack(timeout);
    test(`a ${timeout} ms deadline from add(): not at T − 10 %, nor at T − 1 ms; by T + ${slack} ms`, async () => {
      const clock = new VirtualClock();
      const sweeper = new Sweeper<Item>(timeout, clock);
      const item = new Item(clock);
      const start = clock.now();
      sweeper.add(item);
      await clock.advance(timeout * 0.9);
      assert.equal(item.expiredAt, undefined);
      await clock.advance(timeout * 0.1 - 1);
      assert.equal(item.expiredAt, undefined);
      await clock.advance(1 + slack);
      assert.ok(item.expiredAt !== undefined, "expired");
      assert.ok(item.expiredAt - start >= timeout, `expired at ${item.expiredAt - start}`);
      assert.ok(item.expiredAt - start <= timeout + slack, `expired at ${item.expiredAt - start}`);
      assert.equal(sweeper.size, 0);
      assert.equal(clock.pending, 0, "the timer stops with the last item");
    });
  }

  test("progress restarts the count: the window is measured from the last change", async () => {
    const clock = new VirtualClock();
    const timeout = 1000;
    const sweeper = new Sweeper<Item>(timeout, clock);
    const item = new Item(clock);
    sweeper.add(item);
    // Progress at odd moments between ticks, for three timeouts.
    for (let i = 0; i < 12; i++) {
      await clock.advance(250 + (i % 3) * 7);
      item.progress++;
    }
    assert.equal(item.expiredAt, undefined);
    const last = clock.now();
    await clock.advance(timeout * 0.9);
    assert.equal(item.expiredAt, undefined);
    await clock.advance(timeout * 0.1 + timeoutSlack(timeout));
    assert.ok(item.expiredAt !== undefined, "expired");
    assert.ok(item.expiredAt - last >= timeout, `expired ${item.expiredAt - last} ms after`);
    assert.ok(item.expiredAt - last <= timeout + timeoutSlack(timeout));
  });

  test("NOT_TIMED progress is never timed; a constant after it is timed from the tick that saw it", async () => {
    const clock = new VirtualClock();
    const sweeper = new Sweeper<Item>(200, clock);
    const item = new Item(clock);
    item.progress = NOT_TIMED;
    sweeper.add(item);
    await clock.advance(2000);
    assert.equal(item.expiredAt, undefined);
    item.progress = 7;
    const since = clock.now();
    await clock.advance(200 + timeoutSlack(200));
    assert.ok(item.expiredAt !== undefined);
    assert.ok(item.expiredAt - since >= 200);
  });

  test("a deleted item never expires, and the timer stops with the last one", async () => {
    const clock = new VirtualClock();
    const sweeper = new Sweeper<Item>(100, clock);
    const [a, b] = [new Item(clock), new Item(clock)];
    sweeper.add(a);
    sweeper.add(b);
    assert.equal(sweeper.size, 2);
    assert.equal(clock.pending, 1, "one timer for every item");
    sweeper.delete(a);
    sweeper.delete(b);
    assert.equal(clock.pending, 0);
    await clock.advance(1000);
    assert.equal(a.expiredAt, undefined);
    assert.equal(b.expiredAt, undefined);
  });

  test("ticks a third of the slack: max(T / 10, 50 ms) / 3", () => {
    assert.equal(sweepPeriod(100), 16);
    assert.equal(sweepPeriod(300_000), 10_000);
    assert.equal(timeoutSlack(100), 50);
    assert.equal(timeoutSlack(300_000), 30_000);
  });

  test("refuses a timeout a Node timer cannot wait", () => {
    for (const timeout of [0, 1.5, 2 ** 31, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new Sweeper(timeout), RangeError);
    }
  });

  test("a pool keeps one sweeper per clock and timeout", () => {
    const pool = new SweeperPool<Item>();
    const clock = new VirtualClock();
    assert.equal(pool.get(1234, clock), pool.get(1234, clock));
    assert.notEqual(pool.get(1234, clock), pool.get(4321, clock));
    assert.notEqual(pool.get(1234, clock), pool.get(1234));
  });
});
