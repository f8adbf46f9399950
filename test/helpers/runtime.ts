/**
 * The runtime that tests spawn the built CLI with. `ASYNCNET_TEST_RUNTIME` names it
 * as a command line split on spaces (for example `/opt/deno run -A`); without it,
 * the runtime running the tests: `process.execPath`, plus `run -A` under Deno,
 * whose bare `deno file.js` would run the CLI without the network permission.
 */

/** The command and the arguments that come before the script. */
export interface RuntimeCommand {
  command: string;
  args: readonly string[];
}

/** Reads `ASYNCNET_TEST_RUNTIME`, else the running runtime (see the module comment). */
export function testRuntime(env: NodeJS.ProcessEnv = process.env): RuntimeCommand {
  const words = (env.ASYNCNET_TEST_RUNTIME ?? "").split(" ").filter((word) => word !== "");
  const [command, ...args] = words;
  if (command !== undefined) return { command, args };
  return { command: process.execPath, args: "Deno" in globalThis ? ["run", "-A"] : [] };
}

/** `[...runtime args, script, ...args]` for `spawn(testRuntime().command, ...)`. */
export function runtimeArgs(script: string, args: readonly string[]): string[] {
  return [...testRuntime().args, script, ...args];
}
