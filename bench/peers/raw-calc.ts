/**
 * Raw `node:net` calculator: the floor for any Node design. {@link CalcSession} does
 * the work; {@link serveSessions} writes each chunk's replies in one write and pauses
 * reading while the socket's write buffer is full.
 *
 * Usage: node dist/bench/peers/raw-calc.js [--host 127.0.0.1] [--port 0]
 */
import { CalcSession, WELCOME } from "./calc-session.js";
import { serveSessions } from "./serve-session.js";

serveSessions(() => new CalcSession(), WELCOME);
