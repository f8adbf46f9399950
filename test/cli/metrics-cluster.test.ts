/**
 * `--metrics` with `--workers 2`, spawned for real: the primary alone serves
 * the endpoint, its counts are the workers' sums, and `/healthz` turns 503
 * while the workers drain.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import http from "node:http";
import { after, describe, test } from "node:test";
import { sumStats } from "../../src/cli/metrics-cluster.js";
import { StatCounters } from "../../src/protocols/server-stats.js";
import {
  CALC_WELCOME,
  killAll,
  RawClient,
  say,
  spawnCli,
  type Spawned,
  stopCli,
  TIMEOUT,
  waitForStderr,
  withTimeout,
} from "./cli-helpers.js";

const skip =
  process.env.ASYNCNET_TEST_RUNTIME !== undefined || "Bun" in globalThis || "Deno" in globalThis;

after(killAll);

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    request.on("error", reject);
    request.end();
  });
  return withTimeout(reply, `GET ${path}`);
}

function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    map.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return map;
}

async function scrapeUntil(port: number, done: (v: Map<string, number>) => boolean) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const reply = await get(port, "/metrics");
    if (done(samples(reply.body))) return reply;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for the sums:\n${reply.body}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Started extends Spawned {
  port: number;
  metrics: number;
}

async function start(args: readonly string[]): Promise<Started> {
  const spawned = spawnCli([
    "calc-server",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--workers",
    "2",
    "--metrics",
    "127.0.0.1:0",
    "--log-level",
    "debug",
    ...args,
  ]);
  const metrics = await waitForStderr(spawned, /main: metrics on 127\.0\.0\.1:(\d+)\n/);
  const port = Number(spawned.stderr().match(/listening on 127\.0\.0\.1:(\d+)\n/)?.[1]);
  return { ...spawned, port, metrics: Number(metrics[1]) };
}

describe("sumStats", () => {
  test("adds every field, by reason and cause too", () => {
    const a = new StatCounters();
    a.accepted = 3;
    a.served = 2;
    a.bytesSent = 10;
    a.closed.eof = 2;
    a.refused.maxConnections = 1;
    const b = new StatCounters();
    b.accepted = 4;
    b.served = 4;
    b.bytesSent = 5;
    b.closed.eof = 1;
    b.handlerErrors = 1;
    const sum = sumStats([a.snapshot(1, 0), b.snapshot(2, 3)]);
    assert.equal(sum.connectionsOpen, 3);
    assert.equal(sum.connectionsWaiting, 3);
    assert.equal(sum.accepted, 7);
    assert.equal(sum.served, 6);
    assert.equal(sum.bytesSent, 15);
    assert.equal(sum.closed.eof, 3);
    assert.equal(sum.refused.maxConnections, 1);
    assert.equal(sum.handlerErrors, 1);
    assert.equal(sumStats([]).accepted, 0);
  });
});

describe("calc-server --workers 2 --metrics", { skip }, () => {
  test("the primary serves the workers' sums once; both workers serve", async (t) => {
    const server = await start([]);
    const n = 6;
    for (let i = 0; i < n; i++) {
      const client = await RawClient.connect(server.port);
      await client.waitFor(CALC_WELCOME);
      await say(client, "1,2", "Sum of input numbers: '3'\r\n");
      await client.endAndCollect();
    }
    const slots = new Set(
      [...server.stderr().matchAll(/\[w(\d+)\] calc: Received connection from/g)].map((m) => m[1]),
    );
    assert.deepEqual([...slots].sort(), ["1", "2"], "both workers served");
    const scrape = await scrapeUntil(
      server.metrics,
      (v) => v.get('asyncnet_connections_closed_total{cause="eof"}') === n,
    );
    const values = samples(scrape.body);
    assert.equal(values.get("asyncnet_connections_served_total"), n);
    assert.equal(values.get("asyncnet_connections_accepted_total"), n);
    assert.equal(values.get("asyncnet_connections_open"), 0);
    assert.equal(values.get("asyncnet_workers"), 2);
    assert.equal(values.get("asyncnet_workers_reporting"), 2);
    // Only the primary listens on the metrics port: no worker tried and failed.
    assert.doesNotMatch(server.stderr(), /\[w\d\].*(metrics on|Cannot serve metrics)/);
    await t.test(
      "promtool check metrics accepts it",
      {
        skip:
          spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0
            ? false
            : "promtool is not installed",
      },
      () => {
        const check = spawnSync("promtool", ["check", "metrics"], {
          input: scrape.body,
          encoding: "utf8",
          timeout: TIMEOUT,
        });
        assert.equal(check.status, 0, `promtool said:\n${check.stdout}${check.stderr}`);
      },
    );
    assert.deepEqual(await get(server.metrics, "/healthz"), { status: 200, body: "ok\n" });
    assert.deepEqual(await stopCli(server), { code: 0, signal: null });
  });

  test("/healthz turns 503 while the workers drain after SIGTERM", async () => {
    const server = await start(["--grace", "20"]);
    const client = await RawClient.connect(server.port);
    await client.waitFor(CALC_WELCOME);
    // A line kept open, a digit every 50 ms: its worker stays busy while draining.
    client.write("1");
    const trickle = setInterval(() => client.write("1"), 50);
    try {
      await scrapeUntil(server.metrics, (v) => v.get("asyncnet_connections_open") === 1);
      server.child.kill("SIGTERM");
      await waitForStderr(server, /stopping: waiting for 1 connection/);
      assert.deepEqual(await get(server.metrics, "/healthz"), { status: 503, body: "stopping\n" });
    } finally {
      clearInterval(trickle);
    }
    client.write(",2\n");
    await client.endAndCollect();
    assert.deepEqual(await withTimeout(server.exited, "exit"), { code: 0, signal: null });
  });
});
