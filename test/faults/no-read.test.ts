import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { killAll } from "../../bench/lib/server.js";
import { RSS_BOUND_KB } from "../../faults/scenarios/huge-line.js";
import { noRead } from "../../faults/scenarios/no-read.js";

after(killAll);

describe("a client that sends 256 MiB and never reads", () => {
  for (const app of ["echo-server", "calc-server"] as const) {
    test(`${app} stops reading, keeps its memory, and owes exactly what it took`, async () => {
      const f = await noRead({ app, bytes: 2 ** 28, stallMs: 1000, timeoutMs: 60_000 });
      assert.equal(f.floodError, undefined);
      assert.ok(f.stalled, "the client stalled");
      assert.ok(f.sentBeforeStall < 2 ** 28);
      assert.ok(
        f.rssPeakKb - f.rssBeforeKb < RSS_BOUND_KB,
        `grew ${f.rssPeakKb - f.rssBeforeKb} KiB`,
      );
      const got = app === "calc-server" ? f.receivedLines : f.receivedBytes;
      assert.equal(got, f.expected);
      assert.ok(f.repliesRight);
      assert.equal(f.ending, "eof");
      assert.ok(f.serverAlive);
      assert.ok(f.probeAnswered);
    });
  }
});
