import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  CALC_WELCOME,
  killAll,
  RawClient,
  type RunningServer,
  startServerCli,
  stopCli,
  waitForStderr,
  withTimeout,
  sendSignal,
} from "./cli-helpers.js";

after(killAll);

const REPLY = "Sum of input numbers: '3'\r\n";
const LINES = 10_000;

/** Writes `data` and resolves once the write is in the kernel. */
function written(client: RawClient, data: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.socket.write(data, (error) => (error ? reject(error) : resolve())),
  );
}

/** Resolves with the error that ended the socket, or undefined for a clean close (EOF). */
function endingOf(client: RawClient): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let error: Error | undefined;
    client.socket.on("error", (e) => {
      error = e;
    });
    client.socket.once("close", () => resolve(error));
  });
}

async function connectCalc(server: RunningServer, count: number): Promise<RawClient[]> {
  const clients = await Promise.all(
    Array.from({ length: count }, () => RawClient.connect(server.port)),
  );
  await Promise.all(clients.map((c) => c.waitFor(CALC_WELCOME)));
  return clients;
}

describe("serveUntilSignal: the graceful stop", () => {
  test("SIGTERM right after 20 clients pipelined 10,000 lines each: every line answered byte-exact, exit 0", async () => {
    const server = await startServerCli(["calc-server"]);
    const clients = await connectCalc(server, 20);
    const endings = clients.map(endingOf);
    // One write per line, round the clients, and the signal right after the last
    // one: the server is still working through them when it comes, so many lines
    // are in its receive buffers, not yet read.
    const writes: Promise<void>[] = [];
    for (let i = 0; i < LINES; i++) for (const c of clients) writes.push(written(c, "1,2\n"));
    sendSignal(server.child, "SIGTERM");
    await Promise.all(writes);
    const want = CALC_WELCOME + REPLY.repeat(LINES);
    for (const [i, client] of clients.entries()) {
      const got = (await client.collect(30_000)).toString("latin1");
      assert.equal(got.length, want.length, `client ${i}: ${got.length} of ${want.length} bytes`);
      assert.ok(got === want, `client ${i}: the replies differ`);
      assert.equal(await endings[i], undefined, `client ${i} closed with EOF, not an error`);
    }
    assert.deepEqual(await withTimeout(server.exited, "exit", 30_000), { code: 0, signal: null });
    assert.match(server.stderr(), /main: server closed\n$/);
  });

  test("a client still pipelining when the signal comes gets every line answered, then a clean close", async () => {
    const server = await startServerCli(["calc-server"]);
    const [client] = (await connectCalc(server, 1)) as [RawClient];
    const ending = endingOf(client);
    const CHUNKS = 20;
    const PER_CHUNK = 5_000;
    await written(client, "1,2\n".repeat(PER_CHUNK));
    sendSignal(server.child, "SIGTERM");
    await waitForStderr(server, /stopping: waiting for 1 connection/);
    // The rest goes out after the signal, each write as soon as the last is in the kernel.
    for (let i = 1; i < CHUNKS; i++) await written(client, "1,2\n".repeat(PER_CHUNK));
    const got = (await client.collect(30_000)).toString("latin1");
    const want = CALC_WELCOME + REPLY.repeat(CHUNKS * PER_CHUNK);
    assert.equal(got.length, want.length, `${got.length} of ${want.length} bytes`);
    assert.ok(got === want, "the replies differ");
    assert.equal(await ending, undefined, "closed with EOF, not an error");
    assert.deepEqual(await withTimeout(server.exited, "exit", 30_000), { code: 0, signal: null });
  });

  test("--grace 1: an idle client is closed at once, one that never reads is aborted after the grace; exit 0, logged", async () => {
    const server = await startServerCli(["echo-server", "--grace", "1"]);
    const idle = await RawClient.connect(server.port);
    const stalled = await RawClient.connect(server.port);
    stalled.socket.pause(); // never reads: its echo can never all be sent
    stalled.socket.on("error", () => undefined);
    stalled.write(Buffer.alloc(32 << 20, 0x61));
    sendSignal(server.child, "SIGTERM");
    await waitForStderr(server, /stopping: waiting for 2 connection\(s\) to finish\n/);
    // An EOF, not the abort at the grace's end (a reset, which never resolves `ended`).
    await withTimeout(idle.ended, "the idle client's EOF");
    assert.equal(server.child.exitCode, null, "still waiting for the stalled client");
    const exit = await withTimeout(server.exited, "exit after the grace period");
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(server.stderr(), /WARN: grace period of 1 s over: aborted 1 connection\(s\)\n/);
    assert.match(server.stderr(), /main: server closed\n$/);
    stalled.socket.destroy();
  });

  test("a second signal aborts the stop at once: exit 130, logged", async () => {
    const server = await startServerCli(["calc-server", "--grace", "60"]);
    const [client] = (await connectCalc(server, 1)) as [RawClient];
    client.socket.pause();
    client.socket.on("error", () => undefined);
    await written(client, "1\n".repeat(1 << 20));
    sendSignal(server.child, "SIGTERM");
    await waitForStderr(server, /stopping: waiting for 1 connection/);
    assert.deepEqual(await stopCli(server, "SIGTERM"), { code: 130, signal: null });
    assert.match(server.stderr(), /main: WARN: aborted: open connections were closed at once\n/);
    client.socket.destroy();
  });
});
