/** The workloads: each is run on every peer of its app. */
import type { Traffic } from "./loadgen.js";
import type { App } from "./peers.js";

export type Unit = "replies/s" | "MB/s" | "KB/conn";

export interface Scenario {
  /** Row name: `echo/pingpong-50`, `calc/idle-rss`, … */
  id: string;
  app: App;
  kind: "lines" | "bulk" | "idle";
  /** Connections (for idle, overridden by --idle-conns). */
  conns: number;
  /** Requests (lines mode) or 64 KiB chunks (bulk mode) in flight per connection. */
  pipeline: number;
  unit: Unit;
  /** Whether more is better (false for memory). */
  higherIsBetter: boolean;
  /** What the row measures, for the table's notes and the chart. */
  title: string;
}

/** 23 bytes with its newline, as the example line. */
const ECHO_LINE = "hello world 0123456789";

export const TRAFFIC: Record<App, Traffic> = {
  echo: { send: ECHO_LINE, expect: ECHO_LINE, skipLines: 0 },
  calc: { send: "12,34,56", expect: "Sum of input numbers: '102'\r", skipLines: 1 },
  line: { send: ECHO_LINE, expect: `Echoed: '${ECHO_LINE}'\r`, skipLines: 0 },
};

/** The one exchange each idle connection makes before it idles. */
export const IDLE_TRAFFIC: Record<App, Traffic> = {
  echo: { send: "hello", expect: "hello", skipLines: 0 },
  calc: { send: "1,2", expect: "Sum of input numbers: '3'\r", skipLines: 1 },
  line: { send: "hello", expect: "Echoed: 'hello'\r", skipLines: 0 },
};

function loads(app: App): Scenario[] {
  const s = (id: string, conns: number, pipeline: number, title: string): Scenario => ({
    id: `${app}/${id}`,
    app,
    kind: "lines",
    conns,
    pipeline,
    unit: "replies/s",
    higherIsBetter: true,
    title,
  });
  return [
    s("pingpong-50", 50, 1, "50 connections, one request in flight each"),
    s("pipelined-50x16", 50, 16, "50 connections, 16 requests in flight each"),
    s("conns-1000", 1000, 1, "1,000 connections, one request in flight each"),
  ];
}

function idle(app: App): Scenario {
  return {
    id: `${app}/idle-rss`,
    app,
    kind: "idle",
    conns: 10_000,
    pipeline: 1,
    unit: "KB/conn",
    higherIsBetter: false,
    title: "growth of the server's VmRSS per idle connection (KB = 1,024 bytes)",
  };
}

export const SCENARIOS: readonly Scenario[] = [
  ...loads("echo"),
  {
    id: "echo/bulk-64k",
    app: "echo",
    kind: "bulk",
    conns: 1,
    pipeline: 4,
    unit: "MB/s",
    higherIsBetter: true,
    title: "1 connection, 64 KiB chunks, 4 in flight (MB = 10^6 bytes)",
  },
  idle("echo"),
  ...loads("calc"),
  idle("calc"),
  // The line echo's loads only: its idle connection is the calculator's (the same loop).
  ...loads("line"),
];
