/**
 * wget's report of a download on stderr: a progress bar redrawn in place when
 * stderr is a terminal, and a summary line at the end.
 *
 * @module
 */

/** Options of a {@link DownloadProgress}. */
export interface DownloadProgressOptions {
  /** Where the bar and the summary go. */
  stderr: NodeJS.WritableStream;
  /** Draw the bar (stderr is a terminal). Default `false`: only the summary. */
  tty?: boolean;
  /** Width of the terminal in columns. Default 80. */
  columns?: number;
  /** The clock, in ms. Default `performance.now`. */
  now?: () => number;
}

const REDRAW_MS = 200;

/** `n` bytes as GNU wget shows them: `512`, `12.34K`, `1.5M`, `120G`. */
export function formatSize(n: number): string {
  const units = ["K", "M", "G", "T"];
  if (n < 1024) return String(n);
  let value = n;
  let unit = "";
  for (const u of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = u;
  }
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)}${unit}`;
}

/** A rate in bytes per second: `850B/s`, `12.3KB/s`, `98.1MB/s`. */
export function formatRate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond)) return "--.-KB/s";
  return `${formatSize(Math.round(bytesPerSecond))}B/s`;
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m ${Math.round(seconds % 60)}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

/**
 * Tracks one download. On a terminal, `update` redraws a GNU-wget-like bar
 * (`index.html  45%[=====>     ]  9.00M  12.3MB/s  eta 1.2s`) at most five
 * times a second; `finish` draws it complete and writes the summary line
 * (`'index.html' saved [20971520/20971520] (120MB/s)`), which is all that is
 * written when stderr is not a terminal.
 */
export class DownloadProgress {
  readonly #label: string;
  readonly #total: number | undefined;
  readonly #stderr: NodeJS.WritableStream;
  readonly #tty: boolean;
  readonly #columns: number;
  readonly #now: () => number;
  readonly #start: number;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #frame = 0;

  /**
   * @param label the file name shown in the bar.
   * @param total the body's `Content-Length`, or `undefined` when unknown.
   */
  constructor(label: string, total: number | undefined, options: DownloadProgressOptions) {
    this.#label = label;
    this.#total = total;
    this.#stderr = options.stderr;
    this.#tty = options.tty ?? false;
    this.#columns = Math.max(40, options.columns ?? 80);
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /** Notes that `received` body bytes arrived; redraws the bar when due. */
  update(received: number): void {
    if (!this.#tty) return;
    const now = this.#now();
    if (now - this.#lastDraw < REDRAW_MS) return;
    this.#lastDraw = now;
    this.#stderr.write(`\r${this.#bar(received, now, false)}`);
  }

  /**
   * Ends the report: the complete bar (terminal only), then
   * `'NAME' saved [RECEIVED/TOTAL] (RATE)`, or `written to stdout [...]`.
   */
  finish(received: number, destination: { file: string } | "stdout"): void {
    const now = this.#now();
    const seconds = Math.max(now - this.#start, 1) / 1000;
    if (this.#tty) this.#stderr.write(`\r${this.#bar(received, now, true)}\n`);
    const where = destination === "stdout" ? "written to stdout" : `'${destination.file}' saved`;
    const size = this.#total === undefined ? `${received}` : `${received}/${this.#total}`;
    this.#stderr.write(`${where} [${size}] (${formatRate(received / seconds)})\n`);
  }

  #bar(received: number, now: number, done: boolean): string {
    const seconds = (now - this.#start) / 1000;
    const rate = seconds > 0 ? received / seconds : Number.POSITIVE_INFINITY;
    const total = this.#total;
    let tail: string;
    if (done) tail = `in ${formatSeconds(seconds)}`;
    else if (total === undefined || !(rate > 0) || !Number.isFinite(rate)) tail = "";
    else tail = `eta ${formatSeconds((total - received) / rate)}`;
    const right = ` ${formatSize(received).padStart(7)} ${formatRate(rate).padStart(10)}  ${tail.padEnd(10)}`;
    const label = this.#label.length > 20 ? `${this.#label.slice(0, 19)}~` : this.#label.padEnd(20);
    const width = Math.max(10, this.#columns - 1 - label.length - 6 - right.length);
    let inner: string;
    let percent = "    ";
    if (total !== undefined && total > 0) {
      const fraction = Math.min(1, received / total);
      const filled = Math.floor(fraction * width);
      inner = `${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? ">" : ""}`.padEnd(width);
      percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    } else if (done) {
      inner = "=".repeat(width);
    } else {
      // Unknown length: a `<=>` that bounces between the brackets, as GNU wget's.
      const span = width - 3;
      const step = this.#frame++ % (2 * span);
      const at = step < span ? step : 2 * span - step;
      inner = `${" ".repeat(at)}<=>`.padEnd(width);
    }
    return `${label} ${percent}[${inner}]${right}`;
  }
}
