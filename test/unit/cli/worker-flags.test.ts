import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { Logger } from "../../../src/apps/logger.js";
import { UsageError } from "../../../src/cli/command.js";
import {
  checkFailStart,
  FAIL_START_ENV,
  parseWorkers,
  workerCount,
} from "../../../src/cli/worker-flags.js";

describe("parseWorkers", () => {
  it("defaults to 1, takes auto as one per available CPU and 1..256", () => {
    assert.equal(parseWorkers(undefined), 1);
    assert.equal(parseWorkers("auto"), os.availableParallelism());
    assert.equal(parseWorkers("1"), 1);
    assert.equal(parseWorkers("256"), 256);
  });

  it("refuses 0, 257, signs and words as usage errors", () => {
    for (const text of ["0", "257", "-1", "+2", "2.5", "two", ""]) {
      assert.throws(() => parseWorkers(text), UsageError, text);
    }
  });
});

describe("workerCount", () => {
  it("reads --workers N and --workers=N of the servers, the last one winning, up to --", () => {
    assert.equal(workerCount("calc-server", ["--workers", "3"]), 3);
    assert.equal(workerCount("echo-server", ["--workers=2", "--workers", "4"]), 4);
    assert.equal(workerCount("line-echo-server", ["--", "--workers", "4"]), 1);
    assert.equal(workerCount("calc-server", []), 1);
  });

  it("is 1 for the clients, which take no --workers", () => {
    assert.equal(workerCount("echo-client", ["--workers", "4"]), 1);
  });
});

describe("checkFailStart", () => {
  it("throws only while the named file exists", () => {
    const file = path.join(os.tmpdir(), `asyncnet-fail-unit-${process.pid}`);
    const env = { [FAIL_START_ENV]: file };
    checkFailStart(env);
    writeFileSync(file, "");
    try {
      assert.throws(() => checkFailStart(env), /Cannot start worker/);
    } finally {
      rmSync(file, { force: true });
    }
    checkFailStart({});
  });
});

describe("Logger worker", () => {
  it("prefixes text lines with [wN] and adds a worker field to json, children too", () => {
    const lines: string[] = [];
    const write = (line: string) => lines.push(line);
    new Logger("main", { worker: 2, write }).child("calc").info("hello");
    new Logger("main", { worker: 2, write, format: "json" }).warn("hi");
    new Logger("main", { write }).info("plain");
    assert.equal(lines[0], "[w2] calc: hello\n");
    const record = JSON.parse(lines[1] ?? "") as Record<string, unknown>;
    assert.equal(record.worker, 2);
    assert.equal(record.msg, "hi");
    assert.equal(lines[2], "main: plain\n");
  });
});
