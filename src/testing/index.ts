/**
 * `asyncnet/testing`: test your protocol with no socket. In-memory
 * connections driven by the library's own `Transport`, `StreamReader` and
 * `StreamWriter` ({@link createConnectionPair}), a real `Server` that accepts
 * them ({@link serveInMemory}), a virtual clock for every timeout
 * ({@link createVirtualClock}) and a scripted peer ({@link script}, {@link run}).
 * Nothing here opens a socket or patches a global.
 *
 * @example
 * ```ts
 * import { test } from "node:test";
 * import { serveLines } from "asyncnet";
 * import { run, script, serveInMemory } from "asyncnet/testing";
 *
 * test("echoes a line", async () => {
 *   const server = serveInMemory(serveLines(() => ({ onLine: (line) => line })));
 *   await run(script().send("hi\n").expect("hi\n").eof().expectEof(), await server.connect());
 *   await server.shutdown();
 * });
 * ```
 *
 * @module
 */

export { ALL_CHUNKINGS, type Chunking, chunkingName } from "./chunking.js";
export {
  type ConnectionPairOptions,
  ConnectionEnd,
  connectionResetError,
  createConnectionPair,
  type EndStreams,
  socketAddress,
} from "./connection-pair.js";
export { type Delivery, type LinkOptions, MemoryStream } from "./memory-link.js";
export { duplexPair, MemoryEnd } from "./duplex-pair.js";
export {
  type MemoryConnectOptions,
  type MemoryServed,
  MemoryServer,
  serveInMemory,
} from "./serve-in-memory.js";
export { run, type RunOptions, type RunResult, Script, script, type ScriptStep } from "./script.js";
export { createVirtualClock, type RunAllOptions, VirtualClock } from "./virtual-clock.js";
