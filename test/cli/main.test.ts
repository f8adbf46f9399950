import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { killAll, runCli } from "./cli-helpers.js";

const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

const SUBCOMMANDS = [
  "echo-server",
  "echo-client",
  "line-echo-server",
  "calc-server",
  "http-head",
  "wget",
];

describe("asyncnet (the program)", () => {
  after(killAll);

  test("--help lists every subcommand on stdout and exits 0", async () => {
    const result = await runCli(["--help"]);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, "");
    const text = result.stdout.toString();
    assert.match(text, /^Usage: asyncnet <command> \[options\]/);
    for (const name of SUBCOMMANDS) assert.match(text, new RegExp(`^  ${name} `, "m"));
    assert.match(text, /listening on HOST:PORT/);
  });

  test("--version prints the package.json version and exits 0", async () => {
    for (const args of [["--version"], ["calc-server", "--version"]]) {
      const result = await runCli(args);
      assert.equal(result.code, 0);
      assert.equal(result.stdout.toString(), `${pkg.version}\n`);
      assert.equal(result.stderr, "");
    }
  });

  test("without a subcommand it prints the usage on stderr and exits 2", async () => {
    const result = await runCli([]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout.length, 0);
    assert.match(result.stderr, /^Usage: asyncnet <command>/);
  });

  const usageErrors: [name: string, args: string[], message: RegExp][] = [
    [
      "an unknown subcommand",
      ["bogus"],
      /^asyncnet: unknown command 'bogus'\nTry 'asyncnet --help'\.\n$/,
    ],
    [
      "an unknown option before the subcommand",
      ["--bogus"],
      /^asyncnet: unknown option '--bogus'\n/,
    ],
    [
      "an unknown flag of a subcommand",
      ["echo-server", "--bogus"],
      /^asyncnet echo-server: .*'--bogus'.*\nTry 'asyncnet echo-server --help'\.\n$/,
    ],
    [
      "a positional argument to a server",
      ["calc-server", "extra"],
      /^asyncnet calc-server: .*'extra'/,
    ],
    [
      "a bad --log-level",
      ["calc-server", "--log-level", "loud"],
      /Invalid --log-level: expected debug, info, warn, error or silent, got 'loud'/,
    ],
    [
      "a bad --log-format",
      ["calc-server", "--log-format", "xml"],
      /Invalid --log-format: expected text or json, got 'xml'/,
    ],
    ["a missing --log-level value", ["calc-server", "--log-level"], /--log-level/],
    [
      "a port out of range",
      ["calc-server", "--port", "65536"],
      /Invalid --port: expected an integer in 0\.\.65535, got '65536'/,
    ],
    ["a port that is not a number", ["echo-server", "--port", "http"], /Invalid --port/],
    [
      "a bad --max-line",
      ["line-echo-server", "--max-line", "0"],
      /Invalid --max-line: expected an integer in 1\.\.\d+, got '0'/,
    ],
    [
      "a bad --style",
      ["echo-server", "--style", "threads"],
      /Invalid --style: expected streams or protocol, got 'threads'/,
    ],
    [
      "--once with --until",
      ["echo-server", "--once", "--until", "quit"],
      /--once and --until cannot be used together/,
    ],
    [
      "--until in protocol style",
      ["echo-server", "--style", "protocol", "--until", "quit"],
      /need --style streams/,
    ],
    [
      "--once in protocol style for the client",
      ["echo-client", "--once", "--style", "protocol"],
      /--once needs --style streams/,
    ],
    ["two messages with --once", ["echo-client", "--once", "a", "b"], /--once sends one message/],
    [
      "a negative --idle-timeout",
      ["calc-server", "--idle-timeout=-1"],
      /Invalid --idle-timeout: expected seconds in 0\.\.2147483, got '-1'/,
    ],
    [
      "a negative value given as the next argument",
      ["calc-server", "--line-timeout", "-1"],
      /'--line-timeout.*' argument is ambiguous/,
    ],
    [
      "a --line-timeout that is not a number",
      ["line-echo-server", "--line-timeout", "soon"],
      /Invalid --line-timeout: expected seconds in 0\.\.\d+, got 'soon'/,
    ],
    ["a bad --grace", ["echo-server", "--grace", "1s"], /Invalid --grace: .*got '1s'/],
    [
      "a --max-connections of 0",
      ["echo-server", "--max-connections", "0"],
      /Invalid --max-connections: expected an integer in 1\.\.\d+, got '0'/,
    ],
    ["a bad --max-sessions", ["calc-server", "--max-sessions", "x"], /Invalid --max-sessions/],
    [
      "a fractional --max-per-peer",
      ["echo-server", "--style", "protocol", "--max-per-peer", "2.5"],
      /Invalid --max-per-peer: .*got '2\.5'/,
    ],
    ["--line-timeout on the echo server", ["echo-server", "--line-timeout", "1"], /line-timeout/],
  ];
  for (const [name, args, message] of usageErrors) {
    test(`rejects ${name} with a message on stderr and exit code 2`, async () => {
      const result = await runCli(args);
      assert.equal(result.code, 2);
      assert.equal(result.stdout.length, 0);
      assert.match(result.stderr, message);
    });
  }

  for (const name of ["echo-server", "echo-client", "line-echo-server", "calc-server"]) {
    test(`${name} --help prints its usage, flags and defaults on stdout`, async () => {
      const result = await runCli([name, "--help"]);
      assert.equal(result.code, 0);
      assert.equal(result.stderr, "");
      const text = result.stdout.toString();
      assert.match(text, new RegExp(`^Usage: asyncnet ${name} `));
      for (const flag of [
        "--host",
        "--port",
        "--log-level",
        "--log-format",
        "--help",
        "--version",
      ]) {
        assert.ok(text.includes(flag), `${name} --help mentions ${flag}`);
      }
    });
  }

  test("server help documents the listening line and the defaults", async () => {
    const echo = (await runCli(["echo-server", "--help"])).stdout.toString();
    assert.match(echo, /default localhost/);
    assert.match(echo, /default 10000/);
    assert.match(echo, /127\.0\.0\.1 and 8888/);
    assert.match(echo, /listening on 127\.0\.0\.1:PORT/);
    const calc = (await runCli(["calc-server", "--help"])).stdout.toString();
    assert.match(calc, /default 8080/);
    assert.match(calc, /default 65536/);
    assert.match(calc, /'ERROR\. Line not completed within SECS s\\r\\n'/);
    assert.ok(!calc.includes("\r"), "the help shows escapes, not carriage returns");
  });

  test("server help documents every hardening flag with its default", async () => {
    const shared: [flag: string, fallback: RegExp][] = [
      ["--idle-timeout SECS", /default 300; 0: never/],
      [
        "--max-connections N",
        /default: the open-file limit less a\s+reserve, (\d+|unlimited) here/,
      ],
      ["--max-sessions N", /default:\s+unlimited/],
      ["--max-per-peer N", /default: unlimited/],
      ["--grace SECS", /default 10; 0: abort/],
    ];
    for (const name of ["echo-server", "line-echo-server", "calc-server"]) {
      const text = (await runCli([name, "--help"])).stdout.toString();
      for (const [flag, fallback] of shared) {
        const at = text.indexOf(`  ${flag} `);
        assert.ok(at !== -1, `${name} --help lists ${flag}`);
        const next = text.slice(at + 2).search(/\n {2}-/);
        assert.match(text.slice(at, at + 2 + next), fallback, `${name}: default of ${flag}`);
      }
      assert.match(text, /--grace seconds/);
      assert.match(text, /exits 130/);
      if (name !== "echo-server")
        assert.match(text, /--line-timeout SECS [^]*?default\s+30; 0: never/);
      else assert.doesNotMatch(text, /--line-timeout/);
    }
  });

  test("a port already in use fails with a message and exit code 1", async () => {
    const net = await import("node:net");
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as import("node:net").AddressInfo;
    try {
      const result = await runCli(["calc-server", "--host", "127.0.0.1", "--port", String(port)]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^main: ERROR: .*EADDRINUSE/m);
    } finally {
      blocker.close();
    }
  });
});
