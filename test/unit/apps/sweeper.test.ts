import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Sweeper } from "../../../src/apps/line-deadline.js";
import { waitFor } from "../../helpers/with-timeout.js";

describe("Sweeper", () => {
  test("sweeps every registered item on each tick, and stops with the last one", async () => {
    const sweeper = new Sweeper(5);
    const counts = [0, 0];
    const items = counts.map((_, i) => ({ sweep: () => counts[i]++ }));
    for (const item of items) sweeper.add(item);
    assert.equal(sweeper.size, 2);
    await waitFor(() => (counts[1] as number) >= 2, 2000, "two ticks");
    sweeper.delete(items[0] as (typeof items)[0]);
    const first = counts[0];
    await waitFor(() => (counts[1] as number) >= 4, 2000, "two more ticks");
    assert.equal(counts[0], first);
    sweeper.delete(items[1] as (typeof items)[1]);
    assert.equal(sweeper.size, 0);
    const last = counts[1];
    await sleep(30);
    assert.equal(counts[1], last);
  });

  test("one shared sweeper per period", () => {
    assert.equal(Sweeper.shared(1234), Sweeper.shared(1234));
    assert.notEqual(Sweeper.shared(1234), Sweeper.shared(4321));
  });
});
