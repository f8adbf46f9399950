import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { after, describe, test } from "node:test";
import {
  CALC_WELCOME,
  killAll,
  RawClient,
  runCli,
  type RunningServer,
  startServerCli,
  stopCli,
  TIMEOUT,
  waitForStderr,
  withTimeout,
  sendSignal,
} from "./cli-helpers.js";

after(killAll);

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
}

/** One HTTP request to the metrics endpoint on a fresh connection, bounded. */
function get(port: number, path: string, method = "GET"): Promise<Reply> {
  const reply = new Promise<Reply>((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          type: res.headers["content-type"],
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      res.on("error", reject);
    });
    request.on("error", reject);
    request.end();
  });
  return withTimeout(reply, `${method} ${path}`);
}

/** The samples of an exposition: `name{labels}` → value; comments left out. */
function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    map.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return map;
}

/** Scrapes until `done` holds for the samples (bounded); returns the last scrape. */
async function scrapeUntil(
  port: number,
  done: (values: Map<string, number>) => boolean,
  what: string,
): Promise<Reply> {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const reply = await get(port, "/metrics");
    if (done(samples(reply.body))) return reply;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}:\n${reply.body}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function promtoolPresent(): boolean {
  return spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;
}

async function startWithMetrics(args: string[] = []): Promise<RunningServer & { metrics: number }> {
  const server = await startServerCli(["calc-server", "--metrics", "127.0.0.1:0", ...args]);
  const match = await waitForStderr(server, /metrics on 127\.0\.0\.1:(\d+)\n/);
  return { ...server, metrics: Number(match[1]) };
}

describe("calc-server --metrics", () => {
  test("serves the stats of a known exchange, valid for promtool", async (t) => {
    const server = await startWithMetrics();
    const client = await RawClient.connect(server.port);
    await client.waitFor(CALC_WELCOME);
    client.write("1,2\n");
    const reply = "Sum of input numbers: '3'\r\n";
    await client.waitFor(CALC_WELCOME + reply);
    await client.endAndCollect();
    const scrape = await scrapeUntil(
      server.metrics,
      (values) => values.get('asyncnet_connections_closed_total{cause="eof"}') === 1,
      "the close by EOF",
    );
    assert.equal(scrape.status, 200);
    assert.equal(scrape.type, "text/plain; version=0.0.4; charset=utf-8");
    const values = samples(scrape.body);
    assert.equal(values.get("asyncnet_connections_open"), 0);
    assert.equal(values.get("asyncnet_connections_accepted_total"), 1);
    assert.equal(values.get("asyncnet_connections_served_total"), 1);
    assert.equal(values.get('asyncnet_connections_refused_total{reason="maxConnections"}'), 0);
    assert.equal(values.get("asyncnet_received_bytes_total"), 4);
    assert.equal(values.get("asyncnet_sent_bytes_total"), Buffer.byteLength(CALC_WELCOME + reply));
    assert.equal(values.get("asyncnet_handler_errors_total"), 0);
    assert.ok((values.get("process_resident_memory_bytes") ?? 0) > 0);
    assert.match(
      scrape.body,
      /^# HELP asyncnet_connections_open .+\n# TYPE asyncnet_connections_open gauge\n/m,
    );
    assert.match(scrape.body, /^# TYPE asyncnet_connections_accepted_total counter$/m);

    await t.test(
      "promtool check metrics accepts it",
      {
        skip: promtoolPresent() ? false : "promtool is not installed (apt-get install prometheus)",
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

    assert.deepEqual(await get(server.metrics, "/healthz"), {
      status: 200,
      type: "text/plain; charset=utf-8",
      body: "ok\n",
    });
    assert.equal((await get(server.metrics, "/")).status, 404);
    assert.equal((await get(server.metrics, "/metricsx")).status, 404);
    assert.equal((await get(server.metrics, "/metrics", "POST")).status, 405);
    assert.deepEqual(await stopCli(server), { code: 0, signal: null });
  });

  test("/healthz turns 503 while a busy connection drains after SIGTERM, then the endpoint closes", async () => {
    const server = await startWithMetrics(["--grace", "20"]);
    const client = await RawClient.connect(server.port);
    await client.waitFor(CALC_WELCOME);
    // A line kept open, a digit every 50 ms: never quiet for the drain's 0.25 s.
    client.write("1");
    const trickle = setInterval(() => client.write("1"), 50);
    try {
      await scrapeUntil(
        server.metrics,
        (values) => values.get("asyncnet_connections_open") === 1,
        "the busy connection",
      );
      sendSignal(server.child, "SIGTERM");
      await waitForStderr(server, /stopping: waiting for 1 connection/);
      const health = await get(server.metrics, "/healthz");
      assert.deepEqual([health.status, health.body], [503, "stopping\n"]);
      // Still scraped while it drains.
      assert.equal(
        samples((await get(server.metrics, "/metrics")).body).get("asyncnet_connections_open"),
        1,
      );
    } finally {
      clearInterval(trickle);
    }
    client.write("\n");
    assert.deepEqual(await withTimeout(server.exited, "exit after the drain"), {
      code: 0,
      signal: null,
    });
    await assert.rejects(connectTo(server.metrics), { code: "ECONNREFUSED" });
  });

  test("fails when the metrics address is taken, closing the server", async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = taken.address() as net.AddressInfo;
      const result = await runCli([
        "calc-server",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--metrics",
        `127.0.0.1:${port}`,
      ]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        new RegExp(`Cannot serve metrics on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`),
      );
    } finally {
      taken.close();
    }
  });

  for (const [flag, bad] of [
    ["calc-server", "9100"],
    ["line-echo-server", "localhost:"],
    ["echo-server", "::1:9100"],
  ] as const) {
    test(`${flag} refuses --metrics ${bad} as a usage error`, async () => {
      const result = await runCli([flag, "--metrics", bad]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /Invalid --metrics/);
    });
  }

  for (const command of ["echo-server", "calc-server", "line-echo-server"]) {
    test(`${command} --help documents --metrics`, async () => {
      const result = await runCli([command, "--help"]);
      assert.equal(result.code, 0);
      assert.match(result.stdout.toString(), /--metrics HOST:PORT .*GET \/metrics/);
    });
  }

  test("echo-server --style protocol serves metrics too", async () => {
    const server = await startServerCli([
      "echo-server",
      "--style",
      "protocol",
      "--metrics",
      "127.0.0.1:0",
    ]);
    const match = await waitForStderr(server, /metrics on 127\.0\.0\.1:(\d+)\n/);
    const client = await RawClient.connect(server.port);
    client.write("ping\n");
    await client.waitFor("ping\n");
    await scrapeUntil(
      Number(match[1]),
      (values) =>
        values.get("asyncnet_received_bytes_total") === 5 &&
        values.get("asyncnet_sent_bytes_total") === 5,
      "the echo's bytes",
    );
    await client.endAndCollect();
    assert.deepEqual(await stopCli(server), { code: 0, signal: null });
  });
});

function connectTo(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve();
    });
    socket.on("error", reject);
  });
}
