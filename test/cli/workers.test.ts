/**
 * `--workers N` of the CLI servers, spawned for real: every worker serves,
 * SIGTERM drains them all, SIGHUP rolls them without a refused connection or
 * a lost reply, a killed worker is replaced, a crash loop stops respawning,
 * a failed replacement stops the roll, and the limits hold per worker.
 */
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, afterEach, describe, it } from "node:test";
import {
  CALC_WELCOME,
  killAll,
  RawClient,
  runCli,
  say,
  spawnCli,
  type Spawned,
  stopCli,
  waitForStderr,
  withTimeout,
  sendSignal,
} from "./cli-helpers.js";

const FAIL_START_ENV = "ASYNCNET_TEST_FAIL_START";
// node:cluster is Node's: Bun and Deno under ASYNCNET_TEST_RUNTIME are not tried here.
const skip =
  process.env.ASYNCNET_TEST_RUNTIME !== undefined || "Bun" in globalThis || "Deno" in globalThis;

after(killAll);

interface Workers extends Spawned {
  port: number;
}

/** Spawns `args --workers count` on 127.0.0.1:0 and waits until every worker listens. */
async function startWorkers(args: readonly string[], count = 2): Promise<Workers> {
  const spawned = spawnCli([
    ...args,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--workers",
    `${count}`,
  ]);
  await waitForStderr(spawned, new RegExp(`main: ${count} of ${count} worker\\(s\\) listening\n`));
  const port = Number(spawned.stderr().match(/listening on 127\.0\.0\.1:(\d+)\n/)?.[1]);
  return { ...spawned, port };
}

/** Every `worker N listening pid=P` line so far, in order: [slot, pid]. */
function listened(stderr: string): [number, number][] {
  return [...stderr.matchAll(/main: worker (\d+) listening pid=(\d+)/g)].map((m) => [
    Number(m[1]),
    Number(m[2]),
  ]);
}

/** The pid serving each slot now: the last one that listened in it. */
function currentPids(stderr: string): Map<number, number> {
  return new Map(listened(stderr));
}

/** One calculator exchange on a new connection: welcome, `1,2`, quit. Throws on a refusal or a short reply. */
async function calcOnce(port: number): Promise<void> {
  const client = await RawClient.connect(port);
  await client.waitFor(CALC_WELCOME);
  await say(client, "1,2", "Sum of input numbers: '3'\r\n");
  await say(client, "quit", "connection closed\r\n");
  await client.collect();
}

/** The worker slot that logged `Received connection from` for the client on `localPort`. */
function slotOf(stderr: string, localPort: number): number | undefined {
  const match = stderr.match(
    new RegExp(
      `\\[w(\\d+)\\] calc: Received connection from \\('127\\.0\\.0\\.1', ${localPort}\\)`,
    ),
  );
  return match === null ? undefined : Number(match[1]);
}

describe("asyncnet --workers", { skip }, () => {
  const failFile = path.join(os.tmpdir(), `asyncnet-fail-start-${process.pid}`);
  afterEach(() => {
    rmSync(failFile, { force: true });
    delete process.env[FAIL_START_ENV];
  });

  it("serves from two worker processes, logs their pids, and stops them on SIGTERM", async () => {
    const server = await startWorkers(["calc-server", "--log-level", "debug"]);
    const pids = currentPids(server.stderr());
    assert.equal(pids.size, 2);
    assert.notEqual(pids.get(1), pids.get(2));
    assert.ok(![...pids.values()].includes(server.child.pid ?? 0), "workers are not the primary");
    for (let i = 0; i < 4; i++) await calcOnce(server.port);
    assert.match(server.stderr(), /\[w1\] calc: Received connection/);
    assert.match(server.stderr(), /\[w2\] calc: Received connection/);
    const { code } = await stopCli(server);
    assert.equal(code, 0);
    assert.match(server.stderr(), /\[w1\] main: server closed\n/);
    assert.match(server.stderr(), /\[w2\] main: server closed\n/);
  });

  it("answers every pipelined line of busy connections on SIGTERM, then exits 0", async () => {
    const server = await startWorkers(["calc-server"]);
    const lines = 200;
    const reply = "Sum of input numbers: '3'\r\n";
    const clients = await Promise.all(
      Array.from({ length: 10 }, () => RawClient.connect(server.port)),
    );
    await Promise.all(clients.map((c) => c.waitFor(CALC_WELCOME)));
    for (const client of clients) client.write("1,2\n".repeat(lines));
    sendSignal(server.child, "SIGTERM");
    const want = CALC_WELCOME.length + lines * reply.length;
    for (const client of clients) {
      const data = await client.waitUntil((d) => d.length >= want, `${lines} replies`);
      assert.equal(data.toString("latin1"), CALC_WELCOME + reply.repeat(lines));
      client.socket.end();
    }
    const { code } = await withTimeout(server.exited, "exit after SIGTERM");
    assert.equal(code, 0);
  });

  it("rolls every worker on SIGHUP with no refused connection and no lost reply", async () => {
    const server = await startWorkers(["calc-server"]);
    const before = currentPids(server.stderr());
    let rolled = false;
    let done = 0;
    const failures: string[] = [];
    // Four loops open connection after connection until the roll is over and a few more went by.
    const loop = async () => {
      let after = 0;
      while (after < 5 && done < 2000) {
        const wasRolled = rolled;
        try {
          await calcOnce(server.port);
          done++;
        } catch (error) {
          failures.push((error as Error).message);
        }
        if (wasRolled) after++;
      }
    };
    const load = Promise.all([loop(), loop(), loop(), loop()]);
    // Let the loops get going before the roll.
    await withTimeout(
      (async () => {
        while (done < 8) await new Promise((resolve) => setTimeout(resolve, 10));
      })(),
      "the first exchanges",
    );
    sendSignal(server.child, "SIGHUP");
    await waitForStderr(server, /rolling restart done: 2 worker\(s\) replaced\n/, 20_000);
    rolled = true;
    await withTimeout(load, "the load loops");
    assert.deepEqual(failures, [], "refused connections or lost replies");
    assert.ok(done > 0);
    const now = currentPids(server.stderr());
    for (const slot of [1, 2]) {
      assert.notEqual(now.get(slot), before.get(slot), `worker ${slot} replaced`);
    }
    assert.equal((await stopCli(server)).code, 0);
  });

  it("replaces a worker killed with SIGKILL; only its own connections end", async () => {
    const server = await startWorkers(["calc-server", "--log-level", "debug"]);
    const clients: RawClient[] = [];
    for (let i = 0; i < 6; i++) {
      const client = await RawClient.connect(server.port);
      await client.waitFor(CALC_WELCOME);
      clients.push(client);
    }
    await waitForStderr(
      server,
      new RegExp(`Received connection from \\('127\\.0\\.0\\.1', ${clients.at(-1)?.localPort}\\)`),
    );
    const slots = clients.map((c) => slotOf(server.stderr(), c.localPort));
    assert.ok(slots.includes(1) && slots.includes(2), `both workers took clients: ${slots}`);
    const victim = currentPids(server.stderr()).get(1);
    process.kill(victim ?? 0, "SIGKILL");
    for (const [i, client] of clients.entries()) {
      if (slots[i] === 1) await client.collect();
      else await say(client, "2,3", "Sum of input numbers: '5'\r\n");
    }
    await waitForStderr(server, new RegExp(`worker 1 \\(pid ${victim}\\) died: signal SIGKILL`));
    await waitForStderr(server, /respawning worker 1\n[^]*main: worker 1 listening pid=\d+/);
    assert.notEqual(currentPids(server.stderr()).get(1), victim);
    for (let i = 0; i < 4; i++) await calcOnce(server.port);
    for (const client of clients) client.socket.destroy();
    assert.equal((await stopCli(server)).code, 0);
  });

  it("stops respawning after 5 deaths in 10 s while the other worker keeps serving", async () => {
    process.env[FAIL_START_ENV] = failFile;
    const server = await startWorkers(["calc-server"]);
    writeFileSync(failFile, "");
    process.kill(currentPids(server.stderr()).get(1) ?? 0, "SIGKILL");
    await waitForStderr(server, /crash loop: 5 worker deaths within 10 s: no more respawns/);
    assert.match(server.stderr(), /Cannot start worker: ASYNCNET_TEST_FAIL_START file/);
    assert.equal(listened(server.stderr()).length, 2, "no replacement ever listened");
    for (let i = 0; i < 3; i++) await calcOnce(server.port);
    assert.equal((await stopCli(server)).code, 0);
  });

  it("keeps the old workers when a replacement fails during a roll", async () => {
    process.env[FAIL_START_ENV] = failFile;
    const server = await startWorkers(["calc-server"]);
    const before = currentPids(server.stderr());
    writeFileSync(failFile, "");
    sendSignal(server.child, "SIGHUP");
    await waitForStderr(
      server,
      /rolling restart stopped: the replacement of worker 1 failed before listening \(exit code 1\); keeping the old worker\(s\)/,
    );
    for (let i = 0; i < 4; i++) await calcOnce(server.port);
    assert.deepEqual(currentPids(server.stderr()), before);
    assert.doesNotMatch(server.stderr(), /died/, "a failed replacement is not a death");
    rmSync(failFile);
    sendSignal(server.child, "SIGHUP");
    await waitForStderr(server, /rolling restart done: 2 worker\(s\) replaced\n/, 20_000);
    assert.equal((await stopCli(server)).code, 0);
  });

  it("holds --max-connections per worker: 2 workers with --max-connections 1 admit 2", async () => {
    const server = await startWorkers(["calc-server", "--max-connections", "1"]);
    const clients: RawClient[] = [];
    let admitted = 0;
    // One at a time, each held open: round-robin hands them to the workers in turn.
    for (let i = 0; i < 6; i++) {
      const client = await RawClient.connect(server.port);
      clients.push(client);
      const outcome = await withTimeout(
        Promise.race([
          client.waitFor(CALC_WELCOME).then(() => "welcome"),
          client.closed.then(() => "closed"),
        ]),
        "a welcome or a refusal",
      );
      if (outcome === "welcome") admitted++;
    }
    assert.equal(admitted, 2);
    assert.match(server.stderr(), /\[w1\] main: WARN: .*--max-connections 1/);
    for (const client of clients) client.socket.destroy();
    assert.equal((await stopCli(server)).code, 0);
  });

  it("reports a bad flag once and exits 2; --workers is checked", async () => {
    const bad = await runCli(["calc-server", "--workers", "2", "--bogus", "--port", "0"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.match(/nknown option '--bogus'/g)?.length, 1, bad.stderr);
    for (const value of ["0", "-1", "x", "257"]) {
      const result = await runCli(["calc-server", "--workers", value, "--port", "0"]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /Invalid --workers: expected auto or 1\.\.256/);
    }
  });

  it("says in --help that the limits hold per worker", async () => {
    const help = await runCli(["echo-server", "--help"]);
    assert.match(help.stdout.toString("utf8"), /--workers N[^]*round-robin[^]*hold\s+per worker/);
  });
});
