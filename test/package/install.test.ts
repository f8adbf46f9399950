/**
 * The package as a user gets it: `npm pack` of the built tree, installed into a
 * new project in a temp directory, a TypeScript program type-checked against it
 * under `moduleResolution` node16 and bundler and then run (an echo round trip
 * on 127.0.0.1 port 0), and a global install whose `asyncnet --version` works.
 * Needs `npm run build` first (npm test does it) and the npm client; no network.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
/** The repository (this file is dist/test/package/install.test.js). */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
/** npm's own steps on a 2-core machine take seconds; each is bounded. */
const STEP_MS = 120_000;

const PROGRAM = `import { openConnection, startServer, type StreamReader, type StreamWriter } from "asyncnet";

async function echo(reader: StreamReader, writer: StreamWriter): Promise<void> {
  const line = await reader.readLine();
  writer.write(line);
  await writer.drain();
}

const server = await startServer(echo, "127.0.0.1", 0);
const { port } = server.address() as { port: number };
const { reader, writer } = await openConnection("127.0.0.1", port);
writer.write("ping\\n");
const reply: Buffer = await reader.readLine();
writer.close();
server.close();
await server.waitClosed();
console.log(JSON.stringify(reply.toString()));
`;

function tsconfig(moduleResolution: "node16" | "bundler"): object {
  return {
    compilerOptions: {
      target: "ES2022",
      module: moduleResolution === "node16" ? "node16" : "esnext",
      moduleResolution,
      strict: true,
      noEmit: moduleResolution === "bundler",
      outDir: "out",
      types: ["node"],
      // The consumer brings @types/node itself; borrow the project's.
      typeRoots: [join(ROOT, "node_modules", "@types")],
    },
    files: ["main.ts"],
  };
}

let work: string;
let tarball: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "asyncnet-package-"));
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", work], {
    cwd: ROOT,
    timeout: STEP_MS,
  });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  assert.ok(packed !== undefined);
  tarball = join(work, packed.filename);
  const paths = packed.files.map((f) => f.path);
  // Only the built library and the manifest (npm adds README): no tests, benchmarks,
  // fault scenarios, TypeScript sources or source maps pointing at unshipped files.
  const stray = paths.filter(
    (p) => !/^dist\/src\/.*\.(js|d\.ts)$/.test(p) && !/^(package\.json|README\.md)$/.test(p),
  );
  assert.deepEqual(stray, []);
  assert.ok(paths.includes("dist/src/index.js") && paths.includes("dist/src/index.d.ts"));
});

after(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe("the packed tarball", () => {
  test("installs into a new project, type-checks under node16 and bundler, and runs", async () => {
    const app = join(work, "app");
    await run("mkdir", ["-p", app]);
    await writeFile(
      join(app, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    await run("npm", ["install", "--no-audit", "--no-fund", "--offline", tarball], {
      cwd: app,
      timeout: STEP_MS,
    });
    await writeFile(join(app, "main.ts"), PROGRAM);
    for (const resolution of ["bundler", "node16"] as const) {
      await writeFile(join(app, "tsconfig.json"), JSON.stringify(tsconfig(resolution)));
      await run(process.execPath, [TSC, "-p", "tsconfig.json"], {
        cwd: app,
        timeout: STEP_MS,
      }).catch((error: { stdout?: string }) => {
        assert.fail(`tsc (${resolution}): ${error.stdout ?? String(error)}`);
      });
    }
    const { stdout } = await run(process.execPath, [join(app, "out", "main.js")], {
      cwd: app,
      timeout: 30_000,
    });
    assert.equal(stdout, '"ping\\n"\n');
    const manifest = JSON.parse(
      await readFile(join(app, "node_modules", "asyncnet", "package.json"), "utf8"),
    ) as { dependencies?: object };
    assert.equal(manifest.dependencies, undefined, "the library has no runtime dependency");
  });

  test("installs globally into a prefix, and `asyncnet --version` prints the version", async () => {
    const prefix = join(work, "global");
    await run(
      "npm",
      ["install", "--global", "--prefix", prefix, "--no-audit", "--no-fund", "--offline", tarball],
      {
        timeout: STEP_MS,
      },
    );
    const { version } = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    const { stdout } = await run(join(prefix, "bin", "asyncnet"), ["--version"], {
      timeout: 30_000,
    });
    assert.equal(stdout.trim(), version);
  });
});
