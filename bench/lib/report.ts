/**
 * Collects samples into rows (medians over rounds, ratios taken round by round so
 * that they survive a noisy machine) and prints the table.
 */
import type { Sample } from "./measure.js";
import { FLOOR_PEER, type PeerSpec, type SkipCode } from "./peers.js";
import type { Scenario, Unit } from "./scenarios.js";

export interface Row {
  scenario: string;
  peer: string;
  family: PeerSpec["family"];
  style: PeerSpec["style"];
  runtime: PeerSpec["runtime"];
  unit: Unit;
  status: "ok" | "skipped" | "failed";
  /** For skipped rows, why; the quick test accepts only uvloop-missing and asyncnet-missing. */
  reasonCode: SkipCode | "failed" | null;
  reason: string | null;
  /** Median over rounds, in `unit`. */
  value: number | null;
  min: number | null;
  max: number | null;
  p50Us: number | null;
  p99Us: number | null;
  p999Us: number | null;
  /** Median over rounds of (this peer ÷ raw node:net) in the same round. */
  xRaw: number | null;
  /** The same against the uvloop peer of the same style. */
  xUvloop: number | null;
  /**
   * The same against the promise-per-message `node:net` echo (echo rows only): what a
   * design costs beyond one promise per message, the least any coroutine design pays.
   */
  xFloor: number | null;
  /** Highest load-generator CPU use seen (0–1). */
  loadgenCpu: number | null;
  serverCpu: number | null;
  /**
   * Median over rounds of the server's CPU time per reply (per MB for bulk), in µs:
   * its CPU use over the whole load run divided by the measured rate. Steadier than
   * the rate when other processes take the CPUs, since waiting for a CPU costs none.
   */
  cpuUs: number | null;
  /** Median CPUs used by other processes during this row's runs: the machine's noise. */
  otherCpu: number | null;
  samples: Sample[];
}

/** Loadgen CPU use above which a row is flagged as possibly limited by the load generator. */
export const LOADGEN_BOUND = 0.9;

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const key = (scenario: string, peer: string) => `${scenario} ${peer}`;

export class Results {
  readonly #rows = new Map<string, Row>();
  readonly #uvloopOf = new Map<string, string>();
  readonly #peerOf = new Map<string, PeerSpec>();

  get size(): number {
    return this.#rows.size;
  }

  /** Declares a row, in table order. */
  add(s: Scenario, p: PeerSpec): void {
    this.#uvloopOf.set(key(s.id, p.id), p.uvloopBaseline);
    this.#peerOf.set(key(s.id, p.id), p);
    this.#rows.set(key(s.id, p.id), {
      scenario: s.id,
      peer: p.id,
      family: p.family,
      style: p.style,
      runtime: p.runtime,
      unit: s.unit,
      status: "ok",
      reasonCode: null,
      reason: null,
      value: null,
      min: null,
      max: null,
      p50Us: null,
      p99Us: null,
      p999Us: null,
      xRaw: null,
      xUvloop: null,
      xFloor: null,
      loadgenCpu: null,
      serverCpu: null,
      cpuUs: null,
      otherCpu: null,
      samples: [],
    });
  }

  #row(scenario: string, peer: string): Row {
    const row = this.#rows.get(key(scenario, peer));
    if (row === undefined) throw new Error(`No row ${key(scenario, peer)}`);
    return row;
  }

  sample(scenario: string, peer: string, sample: Sample): void {
    this.#row(scenario, peer).samples.push(sample);
  }

  /** Marks a row skipped or failed; the first reason given stays. */
  fail(scenario: string, peer: string, code: SkipCode | "failed", reason: string): void {
    const row = this.#row(scenario, peer);
    if (row.status !== "ok") return;
    row.status = code === "failed" ? "failed" : "skipped";
    row.reasonCode = code;
    row.reason = reason;
  }

  #ratio(row: Row, baseline: string): number | null {
    const base = this.#rows.get(key(row.scenario, baseline));
    if (base === undefined || base.status !== "ok") return null;
    const ratios: number[] = [];
    for (const s of row.samples) {
      const b = base.samples.find((x) => x.round === s.round);
      if (b !== undefined && b.value > 0) ratios.push(s.value / b.value);
    }
    return median(ratios);
  }

  /** Final rows: a row with no sample and no reason is a failure too. */
  rows(): Row[] {
    const rows = [...this.#rows.values()];
    for (const row of rows) {
      if (row.status === "ok" && row.samples.length === 0) {
        row.status = "failed";
        row.reasonCode = "failed";
        row.reason = "no measurement";
      }
      if (row.status !== "ok") {
        row.samples = [];
        continue;
      }
      const values = row.samples.map((s) => s.value);
      const pick = (f: (s: Sample) => number | null) =>
        median(row.samples.map(f).filter((v): v is number => v !== null));
      row.value = median(values);
      row.min = Math.min(...values);
      row.max = Math.max(...values);
      row.p50Us = pick((s) => s.p50Us);
      row.p99Us = pick((s) => s.p99Us);
      row.p999Us = pick((s) => s.p999Us);
      const cpus = row.samples.map((s) => s.loadgenCpu).filter((v): v is number => v !== null);
      row.loadgenCpu = cpus.length > 0 ? Math.max(...cpus) : null;
      row.serverCpu = pick((s) => s.serverCpu);
      row.cpuUs = pick((s) =>
        s.serverCpu === null || s.value <= 0 ? null : (s.serverCpu / s.value) * 1e6,
      );
      row.otherCpu = pick((s) => s.otherCpu);
    }
    for (const row of rows) {
      if (row.status !== "ok") continue;
      const peer = this.#peerOf.get(key(row.scenario, row.peer));
      row.xRaw = this.#ratio(row, peer?.rawBaseline ?? "raw-node");
      row.xUvloop = this.#ratio(row, this.#uvloopOf.get(key(row.scenario, row.peer)) ?? "");
      // The floor peer runs on Node: a ratio to it from another runtime would mix two things.
      row.xFloor = peer?.runtime === "node" ? this.#ratio(row, FLOOR_PEER) : null;
    }
    return rows;
  }
}

const grouped = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A value in its unit: `90,841`, `1,001.0 MB/s`, `5.21 KB/conn`. */
export function formatNumber(unit: Unit, value: number): string {
  if (unit === "replies/s") return grouped(value);
  if (unit === "MB/s") return `${grouped(value, 1)} MB/s`;
  return `${grouped(value, 2)} KB/conn`;
}

export function formatValue(row: Row): string {
  return row.value === null ? "" : formatNumber(row.unit, row.value);
}

const us = (v: number | null) => (v === null ? "-" : v < 100 ? grouped(v, 1) : grouped(v));
const ratio = (v: number | null) => (v === null ? "-" : v.toFixed(2));

/** The table as text: one line per row, skipped and failed rows saying why. */
export function formatTable(rows: Row[]): string {
  const header = [
    "scenario",
    "peer",
    "replies/s",
    "p50 µs",
    "p99 µs",
    "p99.9 µs",
    "cpu µs",
    "×raw",
    "×uvloop",
    "×floor",
  ];
  const lines: string[][] = [];
  let bound = false;
  for (const row of rows) {
    if (row.status !== "ok") {
      const word = row.status === "skipped" ? "skipped" : "FAILED";
      lines.push([row.scenario, row.peer, `${word}: ${row.reason}`]);
      continue;
    }
    const flag = row.loadgenCpu !== null && row.loadgenCpu > LOADGEN_BOUND ? " †" : "";
    bound ||= flag !== "";
    lines.push([
      row.scenario,
      row.peer,
      formatValue(row) + flag,
      us(row.p50Us),
      us(row.p99Us),
      us(row.p999Us),
      row.cpuUs === null ? "-" : row.cpuUs < 100 ? grouped(row.cpuUs, 2) : grouped(row.cpuUs),
      ratio(row.xRaw),
      ratio(row.xUvloop),
      ratio(row.xFloor),
    ]);
  }
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.filter((l) => l.length > 3).map((l) => (l[i] ?? "").length)),
  );
  const right = (i: number) => i >= 2;
  const render = (cells: string[]) =>
    cells.length === 3
      ? `${(cells[0] as string).padEnd(widths[0] as number)}  ${(cells[1] as string).padEnd(widths[1] as number)}  ${cells[2]}`
      : cells
          .map((c, i) =>
            right(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number),
          )
          .join("  ");
  const out = [render(header), widths.map((w) => "-".repeat(w)).join("  ")];
  let last = "";
  for (const l of lines) {
    if (last !== "" && l[0] !== last) out.push("");
    last = l[0] as string;
    out.push(render(l).trimEnd());
  }
  out.push(
    "",
    "×raw, ×uvloop, ×floor: this peer ÷ the raw peer of its runtime (raw node:net for Node), or",
    "uvloop of the same style, or the promise-per-message node:net echo; medians of per-round ratios;",
    "for idle-rss (KB/conn, lower is better) a ratio above 1 means more memory per connection.",
    "cpu µs: the server's CPU time per reply (per MB for bulk), median over rounds; it moves less",
    "than replies/s when other processes share the CPUs.",
  );
  const noise = median(rows.flatMap((r) => (r.otherCpu === null ? [] : [r.otherCpu])));
  if (noise !== null && noise > 0.2) {
    out.push(
      `note: other processes kept ${noise.toFixed(2)} CPUs busy during a median run: expect noise`,
    );
  }
  if (bound)
    out.push(`†: load generator above ${LOADGEN_BOUND * 100}% CPU: the number may be its limit`);
  return out.join("\n");
}
