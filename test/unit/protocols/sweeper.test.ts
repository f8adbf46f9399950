import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Sweeper, SweeperPool } from "../../../src/protocols/sweeper.js";
import { waitFor } from "../../helpers/with-timeout.js";

describe("Sweeper", () => {
  test("visits every registered item on each tick, and stops with the last one", async () => {
    const counts = new Map<string, number>([
      ["a", 0],
      ["b", 0],
    ]);
    const sweeper = new Sweeper<string>(5, (item) => counts.set(item, (counts.get(item) ?? 0) + 1));
    sweeper.add("a");
    sweeper.add("b");
    assert.equal(sweeper.size, 2);
    await waitFor(() => (counts.get("b") ?? 0) >= 2, 2000, "two ticks");
    sweeper.delete("a");
    const a = counts.get("a");
    await waitFor(() => (counts.get("b") ?? 0) >= 4, 2000, "two more ticks");
    assert.equal(counts.get("a"), a);
    sweeper.delete("b");
    assert.equal(sweeper.size, 0);
    const b = counts.get("b");
    await sleep(30);
    assert.equal(counts.get("b"), b);
  });

  test("refuses a period a Node timer cannot wait", () => {
    for (const period of [0, 1.5, 2 ** 31, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new Sweeper(period, () => {}), RangeError);
    }
  });

  test("a pool keeps one sweeper per period", () => {
    const pool = new SweeperPool<string>(() => {});
    assert.equal(pool.get(1234), pool.get(1234));
    assert.notEqual(pool.get(1234), pool.get(4321));
  });
});
