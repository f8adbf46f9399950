/**
 * The Duplex pair, now public in `asyncnet/testing`; re-exported for the tests that import it from here.
 *
 * @module
 */

export { duplexPair, MemoryEnd } from "../../src/testing/duplex-pair.js";
