/**
 * The server's connection limits in one place: whether a new connection is
 * let in (`maxConnections`, `maxConnectionsPerPeer`), and when an admitted one
 * may start (`maxSessions`, a queue in arrival order).
 *
 * @module
 */

/** Why a connection was refused: the name of the limit's option. */
export type DropReason = "maxConnections" | "maxConnectionsPerPeer";

const NONE: readonly never[] = Object.freeze([]);

/** The limits a server's admission control (`Admission`) enforces; each unlimited when absent. */
export interface AdmissionLimits {
  /** Refuse a connection while this many admitted ones are open. */
  maxConnections?: number;
  /** Refuse a connection while this many admitted ones are open from the same peer address. */
  maxConnectionsPerPeer?: number;
  /** Serve at most this many at a time; more wait in arrival order. */
  maxSessions?: number;
}

/**
 * Answers "may this connection in, and may it start now?" for one server.
 * The counts are this object's own: with several processes (workers) each
 * sharing a port, every process has its own Admission, so limits are per
 * process.
 *
 * Two steps, each balanced by its release:
 * - {@link admit} at the door (after accept, or after a front-door layer has
 *   learnt the real peer) counts the connection as open until
 *   {@link release}, which the owner calls once when it closes, served or not
 *   (only while {@link countsOpen});
 * - {@link claimSession} when it is ready to be served: it starts now, or it
 *   waits in the queue; {@link endSession} when a served one ends hands its
 *   session to the next waiting one that is still there.
 *
 * `T` is what waits in the queue (a socket and its facts, for the server);
 * `isGone(item)` tells one that closed while it waited, which is skipped.
 */
export class Admission<T> {
  readonly #limits: AdmissionLimits;
  readonly #isGone: (item: T) => boolean;
  #open = 0;
  #active = 0;
  readonly #perPeer = new Map<string, number>();
  readonly #queue: T[] = [];

  constructor(limits: AdmissionLimits, isGone: (item: T) => boolean) {
    this.#limits = limits;
    this.#isGone = isGone;
  }

  /**
   * Lets a connection from `peer` in, or says which limit refuses it. When it
   * is let in (`undefined` returned) it counts as open until {@link release}
   * with the same `peer`. `peer` `undefined` (a Unix socket) is never refused
   * by the per-peer limit.
   */
  admit(peer: string | undefined): DropReason | undefined {
    const { maxConnections, maxConnectionsPerPeer } = this.#limits;
    if (!this.countsOpen) return undefined;
    if (maxConnections !== undefined && this.#open >= maxConnections) return "maxConnections";
    if (maxConnectionsPerPeer !== undefined && peer !== undefined) {
      const count = this.#perPeer.get(peer) ?? 0;
      if (count >= maxConnectionsPerPeer) return "maxConnectionsPerPeer";
      this.#perPeer.set(peer, count + 1);
    }
    this.#open++;
    return undefined;
  }

  /**
   * Whether admitted connections are counted at all (`maxConnections` or
   * `maxConnectionsPerPeer` is set): when not, `admit` lets everything in and
   * no `release` is needed, so the owner need not watch for each close.
   */
  get countsOpen(): boolean {
    return (
      this.#limits.maxConnections !== undefined || this.#limits.maxConnectionsPerPeer !== undefined
    );
  }

  /** Whether {@link release} needs the peer (a per-peer limit is set). */
  get countsPeers(): boolean {
    return this.#limits.maxConnectionsPerPeer !== undefined;
  }

  /**
   * An admitted connection closed: it no longer counts. Call once per
   * successful `admit` while {@link countsOpen}.
   */
  release(peer: string | undefined): void {
    this.#open--;
    if (peer === undefined || !this.countsPeers) return;
    const left = (this.#perPeer.get(peer) ?? 1) - 1;
    if (left === 0) this.#perPeer.delete(peer);
    else this.#perPeer.set(peer, left);
  }

  /**
   * An admitted connection is ready to be served: `true` if a session is free
   * (it is now taken, until {@link endSession}), `false` if `item` was queued.
   */
  claimSession(item: T): boolean {
    const max = this.#limits.maxSessions;
    if (max !== undefined && this.#active >= max) {
      this.#queue.push(item);
      return false;
    }
    this.#active++;
    return true;
  }

  /**
   * A session ended (or a claimed one could not start). Returns the waiting
   * connections that now take a session, in arrival order; those that closed
   * while waiting are dropped from the queue.
   */
  endSession(): readonly T[] {
    this.#active--;
    return this.#queue.length === 0 ? NONE : this.#startWaiting();
  }

  #startWaiting(): T[] {
    const max = this.#limits.maxSessions ?? Number.POSITIVE_INFINITY;
    const started: T[] = [];
    while (this.#queue.length > 0 && this.#active < max) {
      const item = this.#queue.shift() as T;
      if (this.#isGone(item)) continue;
      this.#active++;
      started.push(item);
    }
    return started;
  }

  /** Empties the queue and returns what waited, to be closed unserved. */
  takeWaiting(): T[] {
    return this.#queue.splice(0);
  }

  /**
   * Connections admitted and not yet released (served, waiting, or in a TLS
   * handshake); 0 when not {@link countsOpen}.
   */
  get open(): number {
    return this.#open;
  }

  /** Sessions taken. */
  get active(): number {
    return this.#active;
  }

  /** Connections waiting for a session. */
  get waiting(): number {
    return this.#queue.length;
  }
}
