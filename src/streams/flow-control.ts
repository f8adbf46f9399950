import { type ErrorPeer, InvalidStateError } from "../errors.js";
import type { Transport } from "../protocols/transport.js";

/**
 * @internal A reader's flow control, as the base of `StreamReader` (so that
 * its state lives in the reader's object: measured, a separate object cost an
 * idle stream connection 48 bytes): pauses the transport while more than
 * `highWaterMark` bytes are buffered, resumes it once at most half remain or
 * when a read must wait for more. Without a transport it does nothing (a
 * reader fed by hand buffers without limit).
 */
export abstract class FlowControl {
  readonly #highWaterMark: number;
  #transport: Transport | undefined;
  #paused = false;

  /** @internal */
  protected constructor(highWaterMark: number) {
    this.#highWaterMark = highWaterMark;
  }

  /** The flow-control threshold in bytes (see {@link StreamReaderOptions.highWaterMark}). */
  get highWaterMark(): number {
    return this.#highWaterMark;
  }

  /**
   * Attaches the transport that flow control pauses and resumes.
   * @throws {InvalidStateError} when a transport is already set.
   */
  setTransport(transport: Transport): void {
    if (this.#transport !== undefined) {
      throw new InvalidStateError("Cannot set transport: already set");
    }
    this.#transport = transport;
  }

  /** @internal The peer of the attached transport, for the errors that mean a lost peer. */
  protected peer_(): ErrorPeer {
    return this.#transport?.info.peername;
  }

  /** @internal Data arrived: pauses once more than the high-water mark is buffered. */
  protected grew_(size: number): void {
    if (!this.#paused && this.#transport !== undefined && size > this.#highWaterMark) {
      this.#paused = true;
      this.#transport.pauseReading();
    }
  }

  /** @internal Data was read: resumes once at most half the high-water mark is buffered. */
  protected shrank_(size: number): void {
    if (this.#paused && size <= this.#highWaterMark / 2) this.resumeFlow_();
  }

  /** @internal A read waits for more than is buffered (it would deadlock paused): resumes. */
  protected resumeFlow_(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#transport?.resumeReading();
  }
}
