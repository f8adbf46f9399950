import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { killAll } from "../../bench/lib/server.js";
import { proxyHaproxy } from "../../faults/scenarios/proxy-haproxy.js";
import { findBinary } from "../helpers/proxies.js";

after(killAll);

const skip =
  "Bun" in globalThis || "Deno" in globalThis || findBinary("haproxy") === undefined
    ? "needs haproxy (and Node)"
    : false;

describe("proxy/haproxy, small", { skip }, () => {
  test("every connection through HAProxy (PROXY v2) is answered, nothing logged", async () => {
    const f = await proxyHaproxy({ conns: 300, rounds: 2, timeoutMs: 60_000 });
    assert.equal(f.skipped, undefined);
    assert.deepEqual(f.problems, []);
    assert.equal(f.answered, 600);
    assert.equal(f.serverWarnings, 0);
    assert.equal(f.headerTimeouts, 0);
    assert.ok(f.replies >= 600);
  });
});
