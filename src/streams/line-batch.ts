/**
 * The replies of a line loop's burst, queued in order and written together.
 *
 * @module
 */

import type { LineReply, SyncLineReply } from "./line-session.js";
import { ReplyBytes } from "./reply-slab.js";
import type { StreamWriter } from "./stream-writer.js";

/** The part of a {@link StreamWriter} the loop uses (so a test can pass a fake). */
export type LineWriter = Pick<StreamWriter, "write" | "drain" | "needsDrain"> & {
  /** As `StreamWriter.getExtraInfo`, untyped so that a fake writer fits. */
  getExtraInfo(name: string, fallback?: unknown): unknown;
  /** As `StreamWriter.transport`; a fake writer may leave it out (its writes never wait). */
  readonly transport?: {
    /** Bytes written and still queued, as `Transport.getWriteBufferSize`. */
    getWriteBufferSize(): number;
  };
};

/** Replies batched from one burst of buffered lines are written, and drained, past this many bytes. */
const BATCH_BYTES = 64 * 1024;

/**
 * @internal The reply side of a line loop, as its base (one object per
 * connection, not two): the replies of the current burst and the one that is
 * a promise, which stops the burst.
 *
 * Strings are joined as they come (the calculator's replies, measured cheaper
 * than a Buffer each) and written as one string. Once a reply is bytes, or a
 * piece is appended, the batch is bytes (in the shared slab, see
 * {@link ReplyBytes}): the text so far goes in first and what follows is
 * encoded after it, in order.
 */
export abstract class LineBatch {
  readonly #writer: LineWriter;
  #pending: PromiseLike<SyncLineReply> | undefined;
  #text = "";
  #bytes: ReplyBytes | undefined;
  #batchBytes = 0;

  constructor(writer: LineWriter) {
    this.#writer = writer;
  }

  /** @internal The connection's writer. */
  protected get writer_(): LineWriter {
    return this.#writer;
  }

  /** @internal The reply that is a promise, if the burst stopped at one. */
  protected get pending_(): PromiseLike<SyncLineReply> | undefined {
    return this.#pending;
  }

  /** @internal Whether the batch reached its size: write it (and drain) before the next line. */
  protected get full_(): boolean {
    return this.#batchBytes >= BATCH_BYTES;
  }

  /** @internal Whether another line may be answered in this burst: no promise and room left. */
  protected get open_(): boolean {
    return this.#batchBytes < BATCH_BYTES && this.#pending === undefined;
  }

  /**
   * @internal Queues a reply; a promise becomes the pending one that stops the burst.
   * @throws {TypeError} for a reply that is none of a line's reply types.
   */
  protected addReply_(reply: LineReply): void {
    if (typeof reply === "string") {
      if (this.#bytes === undefined || this.#bytes.size === 0) this.#text += reply;
      else this.#bytes.addText(reply);
    } else if (reply instanceof Uint8Array) {
      this.#bytesBatch().push(reply);
    } else if (reply === undefined || reply === null) {
      return;
    } else if (typeof (reply as PromiseLike<unknown>).then === "function") {
      this.#pending = reply;
      return;
    } else {
      throw new TypeError(
        "Invalid line reply: expected a string, a Uint8Array, undefined or a promise of one",
      );
    }
    this.#batchBytes += reply.length;
  }

  /** @internal Adds a copy of `bytes[start, end)` to the batch (`conn.append`). */
  protected addPiece_(bytes: Uint8Array, start: number, end: number): void {
    const batch = this.#text === "" && this.#bytes !== undefined ? this.#bytes : this.#bytesBatch();
    batch.add(bytes, start, end);
    this.#batchBytes += end - start;
  }

  /** @internal Writes what was queued before the pending reply, awaits it and queues its result. */
  protected async settle_(): Promise<void> {
    this.flush_();
    const pending = this.#pending as PromiseLike<SyncLineReply>;
    let reply: SyncLineReply;
    try {
      reply = await pending;
    } finally {
      this.#pending = undefined;
    }
    this.addReply_(reply);
  }

  /** @internal Writes the queued replies; false when there were none. */
  protected flush_(): boolean {
    if (this.#batchBytes === 0) return false;
    const bytes = this.#bytes;
    if (bytes === undefined || bytes.size === 0) {
      // A string, not its bytes: the socket encodes it as it writes, which cost fewer
      // instructions per reply than encoding it here first (valgrind, the calculator:
      // 17,423 against 19,430 ping-pong, 8,440 against 9,626 pipelined 16 deep).
      this.#writer.write(this.#text);
    } else {
      // #bytesBatch moved any text in before the first bytes; later text was added after.
      // Behind bytes still queued, this write waits too: a view would keep its whole
      // slab alive meanwhile, so it goes as a copy of its own.
      const queued = (this.#writer.transport?.getWriteBufferSize() ?? 0) > 0;
      this.#writer.write(bytes.take(queued));
    }
    this.#text = "";
    this.#batchBytes = 0;
    return true;
  }

  /** The batch as bytes, the text queued so far first. */
  #bytesBatch(): ReplyBytes {
    const bytes = (this.#bytes ??= new ReplyBytes());
    if (this.#text !== "") {
      bytes.addText(this.#text);
      this.#text = "";
    }
    return bytes;
  }
}
