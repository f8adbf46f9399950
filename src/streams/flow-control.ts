import { InvalidStateError } from "../errors.js";
import type { Transport } from "../protocols/transport.js";

/**
 * A reader's flow control: pauses the transport while more than
 * `highWaterMark` bytes are buffered, resumes it once at most half remain or
 * when a read must wait for more. Without a transport it does nothing (a
 * reader fed by hand buffers without limit).
 */
export class FlowControl {
  readonly highWaterMark: number;
  #transport: Transport | undefined;
  #paused = false;

  constructor(highWaterMark: number) {
    this.highWaterMark = highWaterMark;
  }

  /**
   * Attaches the transport to pause and resume.
   * @throws {InvalidStateError} when a transport is already set.
   */
  setTransport(transport: Transport): void {
    if (this.#transport !== undefined) {
      throw new InvalidStateError("Cannot set transport: already set");
    }
    this.#transport = transport;
  }

  /** Data arrived: pauses once more than the high-water mark is buffered. */
  grew(size: number): void {
    if (!this.#paused && this.#transport !== undefined && size > this.highWaterMark) {
      this.#paused = true;
      this.#transport.pauseReading();
    }
  }

  /** Data was read: resumes once at most half the high-water mark is buffered. */
  shrank(size: number): void {
    if (this.#paused && size <= this.highWaterMark / 2) this.resume();
  }

  /** A read waits for more than is buffered (it would deadlock paused): resumes. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#transport?.resumeReading();
  }
}
