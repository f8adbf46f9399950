/**
 * The `--workers` row: the calculator with `--workers 2` against the same
 * with `--workers 1`, behind the same load generator, on one of the existing
 * calculator workloads (`calc/pipelined-50x16`). Two extra peers of that
 * scenario, `asyncnet-workers-1` and `asyncnet-workers-2`; `--only workers`
 * runs just them.
 *
 * On a machine of 2 CPUs one of them drives the load, and a pinned server
 * pins its workers with it (they inherit the primary's affinity): the figure
 * is what it is, not a scaling claim. The server CPU columns count the
 * primary's process only, not its workers.
 *
 * @module
 */

import type { PeerCommand, PeerSpec, Environment } from "./peers.js";
import { resolvePeer } from "./peers.js";
import type { Results } from "./report.js";
import { SCENARIOS, type Scenario } from "./scenarios.js";

/** The scenario the row runs on. */
export const WORKERS_SCENARIO_ID = "calc/pipelined-50x16";

/** The peers of the row, `--workers 1` first. */
export const WORKERS_PEERS: readonly PeerSpec[] = [1, 2].map((n) => ({
  id: `asyncnet-workers-${n}`,
  app: "calc",
  family: "asyncnet",
  style: "streams",
  uvloopBaseline: "uvloop",
  runtime: "node",
  rawBaseline: "raw-node",
}));

/**
 * Adds the row's entries to `plan` and declares them in `results` (those that
 * `only` selects, as `run.ts` selects its own: on `"SCENARIO PEER"`). A peer
 * that cannot run (the CLI not built) is declared failed, as `run.ts` does.
 */
export function planWorkersRows(
  plan: { scenario: Scenario; peer: PeerSpec; cmd: PeerCommand }[],
  results: Results,
  env: Environment,
  only: RegExp | null,
): void {
  const scenario = SCENARIOS.find((s) => s.id === WORKERS_SCENARIO_ID);
  if (scenario === undefined) return;
  for (const [i, peer] of WORKERS_PEERS.entries()) {
    if (only !== null && !only.test(`${scenario.id} ${peer.id}`)) continue;
    results.add(scenario, peer);
    const resolved = resolvePeer({ ...peer, id: "asyncnet" }, env);
    if (!resolved.ok) {
      results.fail(scenario.id, peer.id, resolved.code, resolved.reason);
      continue;
    }
    const base = resolved.cmd;
    const cmd: PeerCommand = {
      command: base.command,
      args: (host, port) => [...base.args(host, port), "--workers", String(i + 1)],
    };
    plan.push({ scenario, peer, cmd });
  }
}
