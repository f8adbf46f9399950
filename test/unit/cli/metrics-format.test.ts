import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatMetrics, readProcessMetrics } from "../../../src/cli/metrics-format.js";
import type { ServerStats } from "../../../src/protocols/server-stats.js";

const STATS: ServerStats = {
  connectionsOpen: 2,
  connectionsWaiting: 1,
  accepted: 10,
  refused: { maxConnections: 3, maxConnectionsPerPeer: 1 },
  served: 6,
  closed: {
    eof: 1,
    closed: 0,
    idle: 1,
    lineTimeout: 0,
    reset: 1,
    error: 1,
    shutdown: 0,
    aborted: 0,
  },
  bytesReceived: 1234,
  bytesSent: 5678,
  handlerErrors: 1,
};

describe("formatMetrics", () => {
  test("writes every counter and gauge with HELP and TYPE, each cause and reason labelled", () => {
    const text = formatMetrics(STATS);
    assert.ok(text.endsWith("\n"));
    for (const [name, type, sample] of [
      ["asyncnet_connections_open", "gauge", "asyncnet_connections_open 2"],
      ["asyncnet_connections_waiting", "gauge", "asyncnet_connections_waiting 1"],
      ["asyncnet_connections_accepted_total", "counter", "asyncnet_connections_accepted_total 10"],
      [
        "asyncnet_connections_refused_total",
        "counter",
        'asyncnet_connections_refused_total{reason="maxConnections"} 3',
      ],
      ["asyncnet_connections_served_total", "counter", "asyncnet_connections_served_total 6"],
      [
        "asyncnet_connections_closed_total",
        "counter",
        'asyncnet_connections_closed_total{cause="reset"} 1',
      ],
      ["asyncnet_received_bytes_total", "counter", "asyncnet_received_bytes_total 1234"],
      ["asyncnet_sent_bytes_total", "counter", "asyncnet_sent_bytes_total 5678"],
      ["asyncnet_handler_errors_total", "counter", "asyncnet_handler_errors_total 1"],
    ] as const) {
      const lines = text.split("\n");
      const help = lines.findIndex((line) => line.startsWith(`# HELP ${name} `));
      assert.ok(help >= 0, `HELP of ${name}`);
      assert.equal(lines[help + 1], `# TYPE ${name} ${type}`);
      assert.ok(lines.includes(sample), sample);
    }
    // Zeros are listed too: every cause, every reason.
    assert.equal(
      text.match(/^asyncnet_connections_closed_total\{cause="[a-zA-Z]+"\} \d+$/gm)?.length,
      8,
    );
    assert.match(text, /^asyncnet_connections_closed_total\{cause="shutdown"\} 0$/m);
    assert.equal(text.match(/^asyncnet_connections_refused_total\{/gm)?.length, 2);
    assert.doesNotMatch(text, /^process_/m);
  });

  test("adds the process metrics when given, leaving out open fds where unknown", () => {
    const proc = {
      cpuSeconds: 1.5,
      residentBytes: 4096,
      startTimeSeconds: 1700000000,
      openFds: 12,
    };
    const text = formatMetrics(STATS, proc);
    assert.match(
      text,
      /^# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1\.5$/m,
    );
    assert.match(text, /^process_resident_memory_bytes 4096$/m);
    assert.match(text, /^process_start_time_seconds 1700000000$/m);
    assert.match(text, /^process_open_fds 12$/m);
    assert.doesNotMatch(formatMetrics(STATS, { ...proc, openFds: undefined }), /process_open_fds/);
  });
});

describe("readProcessMetrics", () => {
  test("reads this process's CPU, memory and start time", () => {
    const proc = readProcessMetrics();
    assert.ok(proc.cpuSeconds > 0);
    assert.ok(proc.residentBytes > 1024 * 1024);
    const now = Date.now() / 1000;
    assert.ok(proc.startTimeSeconds <= now + 1 && proc.startTimeSeconds > now - 3600);
    if (process.platform === "linux") assert.ok((proc.openFds ?? 0) >= 3);
  });
});
