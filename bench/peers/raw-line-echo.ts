/**
 * Raw `node:net` line echo (seed 002): the floor for any Node line server.
 * {@link LineEchoSession} does the work; {@link serveSessions} writes each chunk's
 * replies in one write and pauses reading while the socket's write buffer is full.
 *
 * Usage: node dist/bench/peers/raw-line-echo.js [--host 127.0.0.1] [--port 0]
 */
import { LineEchoSession } from "./line-echo-session.js";
import { serveSessions } from "./serve-session.js";

serveSessions(() => new LineEchoSession());
