import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { defaultMaxConnections } from "../../../src/cli/server-limits.js";

describe("defaultMaxConnections", () => {
  const dir = mkdtempSync(join(tmpdir(), "asyncnet-limits-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const limitsWith = (line: string) => {
    const file = join(dir, `limits-${Math.random()}`);
    writeFileSync(
      file,
      `Limit                     Soft Limit           Hard Limit           Units\n${line}\n`,
    );
    return file;
  };

  const cases: [soft: number, expected: number][] = [
    [20000, 20000 - 1024],
    [4096, 4096 - 409],
    [64, 32],
    [1024, 1024 - 102],
  ];
  for (const [soft, expected] of cases) {
    test(`keeps a reserve below a soft limit of ${soft} open files: ${expected}`, () => {
      const file = limitsWith(
        `Max open files            ${soft}                 65536                files`,
      );
      assert.equal(defaultMaxConnections(file), expected);
    });
  }

  test("is unlimited (undefined) where the limits cannot be read", () => {
    assert.equal(defaultMaxConnections(join(dir, "missing")), undefined);
    assert.equal(defaultMaxConnections(limitsWith("Max processes 100 100 processes")), undefined);
  });
});
