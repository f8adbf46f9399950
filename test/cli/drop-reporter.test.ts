import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Logger } from "../../src/apps/logger.js";
import { DropReporter } from "../../src/cli/drop-reporter.js";
import { withTimeout } from "./cli-helpers.js";

const NAMES = {
  maxConnections: "--max-connections 100",
  maxConnectionsPerPeer: "--max-per-peer 10",
};

/** A reporter on a recording logger and a clock the test moves. */
function reporter(interval = 1000) {
  const lines: string[] = [];
  const logger = new Logger("main", { write: (line) => lines.push(line.trimEnd()) });
  const clock = { now: 0 };
  const drops = new DropReporter(logger, { names: NAMES, interval, now: () => clock.now });
  return { drops, lines, clock };
}

describe("DropReporter", () => {
  test("logs the first refusal at once, at warn level, with the limit and the peer", () => {
    const { drops, lines } = reporter();
    drops.drop("maxConnections", "10.0.0.1");
    assert.deepEqual(lines, [
      "main: WARN: refused 1 connection(s): 1 over --max-connections 100 (last from 10.0.0.1)",
    ]);
    drops.close();
  });

  test("counts the refusals within the interval into one line, written by close()", () => {
    const { drops, lines, clock } = reporter();
    drops.drop("maxConnections", "10.0.0.1");
    for (let i = 0; i < 998; i++) {
      clock.now = i;
      drops.drop(i % 2 === 0 ? "maxConnections" : "maxConnectionsPerPeer", `10.0.0.${i % 250}`);
    }
    assert.equal(lines.length, 1, "one line for the first second");
    drops.close();
    assert.deepEqual(lines.slice(1), [
      "main: WARN: refused 998 connection(s): 499 over --max-connections 100, " +
        "499 over --max-per-peer 10 (last from 10.0.0.247)",
    ]);
    drops.close();
    assert.equal(lines.length, 2, "nothing more to write");
  });

  test("writes the pending count when the interval is over", async () => {
    const { drops, lines, clock } = reporter(50);
    drops.drop("maxConnectionsPerPeer");
    clock.now = 10;
    drops.drop("maxConnectionsPerPeer");
    drops.drop("maxConnectionsPerPeer");
    assert.equal(lines.length, 1);
    clock.now = 60;
    await withTimeout(
      (async () => {
        while (lines.length < 2) await sleep(10);
      })(),
      "the deferred warn line",
    );
    assert.equal(lines[1], "main: WARN: refused 2 connection(s): 2 over --max-per-peer 10");
    drops.close();
  });

  test("logs at once again once the interval has passed", () => {
    const { drops, lines, clock } = reporter();
    drops.drop("maxConnections");
    clock.now = 1000;
    drops.drop("maxConnections");
    assert.equal(lines.length, 2);
    drops.close();
  });
});
