import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  assertLineServerStart,
  exchange,
  killAll,
  RawClient,
  type RunningServer,
  startServerCli,
  stopCli,
  waitForStderr,
  withTimeout,
} from "./cli-helpers.js";

describe("asyncnet line-echo-server", () => {
  let server: RunningServer;

  before(async () => {
    server = await startServerCli(["line-echo-server", "--log-level", "debug"]);
  });

  after(async () => {
    if (server !== undefined) await stopCli(server).catch(() => undefined);
    killAll();
  });

  test("prints the seed's start line and where it listens", () => {
    assertLineServerStart(server);
  });

  test("replays seed 002's example1 telnet session byte for byte", async () => {
    const client = await RawClient.connect(server.port);
    const session: [string, string][] = [
      ["hello", "Echoed: 'hello'\r\n"],
      ["nice", "Echoed: 'nice'\r\n"],
      ["fdkgsnas", "Echoed: 'fdkgsnas'\r\n"],
      ["quit", "connection closed\r\n"],
    ];
    let expected = "";
    for (const [line, reply] of session) {
      client.write(`${line}\r\n`);
      expected += reply;
      const data = await client.waitFor(expected);
      assert.equal(data.toString("latin1"), expected);
    }
    assert.equal((await client.collect()).toString("latin1"), expected);
    const local = client.localPort;
    await waitForStderr(server, new RegExp(`line_echo: \\('127\\.0\\.0\\.1', ${local}\\) quit\n`));
    const story = server
      .stderr()
      .split("\n")
      .filter((line) => line.includes(`, ${local})`));
    assert.deepEqual(story, [
      `line_echo: Received connection from ('127.0.0.1', ${local})`,
      `line_echo: ('127.0.0.1', ${local}) --> hello`,
      `line_echo: ('127.0.0.1', ${local}) --> nice`,
      `line_echo: ('127.0.0.1', ${local}) --> fdkgsnas`,
      `line_echo: ('127.0.0.1', ${local}) quit`,
    ]);
  });

  const cases: [name: string, input: Buffer, reply: string][] = [
    [
      "escapes non-ASCII as Python's ascii()",
      Buffer.from("caf\u00e9 \u20ac\n"),
      "Echoed: 'caf\\xe9 \\u20ac'\r\n",
    ],
    ["uses double quotes around a single quote", Buffer.from("it's\n"), `Echoed: "it's"\r\n`],
    [
      "answers bytes that are not UTF-8 with an error line",
      Buffer.from("a\xffb\n", "latin1"),
      "ERROR. Input is not valid UTF-8\r\n",
    ],
    [
      "answers the last line at EOF without quit, then closes",
      Buffer.from("one\ntwo"),
      "Echoed: 'one'\r\nEchoed: 'two'\r\n",
    ],
    ["closes cleanly on EOF right away", Buffer.alloc(0), ""],
    ["echoes an empty line", Buffer.from("\r\n"), "Echoed: ''\r\n"],
  ];
  for (const [name, input, reply] of cases) {
    test(name, async () => {
      const data = await exchange(server.port, input.length === 0 ? [] : [input]);
      assert.equal(data.toString("latin1"), reply);
    });
  }

  test("gives ten concurrent clients correct, separate answers", async () => {
    const runs = Array.from({ length: 10 }, async (_, i) => {
      const data = await exchange(server.port, [`client ${i}\nline `, `${i}\nquit\nignored\n`]);
      assert.equal(
        data.toString("latin1"),
        `Echoed: 'client ${i}'\r\nEchoed: 'line ${i}'\r\nconnection closed\r\n`,
      );
    });
    await withTimeout(Promise.all(runs), "ten clients");
  });

  test("answers an over-long line with one error line and goes on", async () => {
    const small = await startServerCli(["line-echo-server", "--max-line", "8"]);
    try {
      const data = await exchange(small.port, [
        "12345678\n",
        "123456789",
        "abcdef\n",
        "ok\nquit\n",
      ]);
      assert.equal(
        data.toString("latin1"),
        "Echoed: '12345678'\r\nERROR. Line too long (more than 8 bytes)\r\nEchoed: 'ok'\r\nconnection closed\r\n",
      );
    } finally {
      assert.deepEqual(await stopCli(small), { code: 0, signal: null });
    }
  });

  test("logs as JSON with --log-format json", async () => {
    const json = await startServerCli(["line-echo-server", "--log-format", "json"]);
    try {
      const first = JSON.parse(json.stderr().split("\n")[0] as string) as Record<string, unknown>;
      assert.equal(first.level, "info");
      assert.equal(first.name, "main");
      assert.equal(first.msg, `Server up, running, and waiting for call on 127.0.0.1 ${json.port}`);
    } finally {
      await stopCli(json);
    }
  });
});
