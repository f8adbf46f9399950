import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { serveLines } from "../../../src/streams/serve-lines.js";
import { createConnectionPair } from "../../../src/testing/connection-pair.js";
import { run, script } from "../../../src/testing/script.js";
import { serveInMemory } from "../../../src/testing/serve-in-memory.js";
import { createVirtualClock } from "../../../src/testing/virtual-clock.js";

const echo = serveLines(() => ({
  welcome: "hello\n",
  onLine: (line) => Buffer.concat([line, Buffer.from("\n")]),
}));

describe("script and run", () => {
  test("a script that matches runs to its end", async () => {
    const server = serveInMemory(echo);
    const peer = script()
      .expect("hello\n")
      .send("one\ntw")
      .send("o\n")
      .expect("one\n")
      .expect(/tw.\n/)
      .eof()
      .expectEof();
    const { received } = await run(peer, await server.connect({ chunking: "byte" }));
    assert.equal(received.toString(), "hello\none\ntwo\n");
    await server.shutdown();
  });

  test("a differing byte fails at once, naming the remaining steps and what was received", async () => {
    const server = serveInMemory(echo);
    const started = Date.now();
    const client = await server.connect();
    await assert.rejects(
      run(script().expect("hello\n").send("abc\n").expect("abd\n").send("more\n"), client, {
        timeout: 60_000,
      }),
      (error: Error) => {
        assert.equal(error.name, "AssertionError");
        assert.match(
          error.message,
          /step 3 of 4: byte 2 of the expected b'abd\\n' differs: got b'abc\\n'/,
        );
        assert.match(error.message, /remaining steps: expect\(b'abd\\n'\), send\(b'more\\n'\)/);
        assert.match(error.message, /received: b'hello\\nabc/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 30_000, "it did not wait for the timeout");
    // In memory, nothing keeps the process alive: close what the test opened.
    client.reset();
    await server.shutdown();
  });

  test("the other side closing before an expect is met fails", async () => {
    const [a, b] = createConnectionPair();
    const { writer } = b.streams();
    writer.write("partial");
    writer.close();
    await assert.rejects(run(script().expect("partial line\n"), a), /the other side closed/);
  });

  test("an expect never met fails after its timeout", async () => {
    const [a] = createConnectionPair();
    await assert.rejects(
      run(script().send("x").expect("y"), a, { timeout: 50 }),
      /timed out after 50 ms waiting for b'y'[\s\S]*received: b''/,
    );
    a.stream.destroy();
  });

  test("bytes that no step expected fail the run", async () => {
    const [a, b] = createConnectionPair();
    b.streams().writer.write("surprise");
    await new Promise((resolve) => setImmediate(resolve));
    await assert.rejects(run(script().wait(0), a), /8 bytes arrived that no step expected/);
    a.reset();
  });

  test("wait() advances a virtual clock; reset() resets the connection", async () => {
    const clock = createVirtualClock();
    const [a, b] = createConnectionPair({ clock });
    const { reader } = b.streams();
    await run(script().send("a").wait(300_000).reset(), a, { clock });
    assert.equal(clock.now(), 301_000);
    assert.equal((await reader.read(10)).toString(), "a");
    await assert.rejects(reader.read(10), { name: "ConnectionResetError" });
  });

  test("refuses an end that already has a transport", async () => {
    const [a] = createConnectionPair();
    a.streams();
    await assert.rejects(run(script(), a), { name: "InvalidStateError" });
    a.transport?.abort();
  });
});
