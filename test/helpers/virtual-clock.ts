/**
 * The virtual clock, now public in `asyncnet/testing`; re-exported for the tests that import it from here.
 *
 * @module
 */

export { VirtualClock } from "../../src/testing/virtual-clock.js";
