/** How much of an agent's stderr a session keeps and passes on. */
export interface StderrLimits {
  /** Lines kept (the most recent) for `stderrTail` and `fault.stderr`. Default 20. */
  tailLines: number;
  /** Longest line kept, in characters; a longer one is cut there and ends with "…". Default 500. */
  lineChars: number;
  /** Most lines per second handed to `onStderr`; the rest are counted and summarised. Default 20. */
  linesPerSecond: number;
}

export const DEFAULT_STDERR_LIMITS: Readonly<StderrLimits> = Object.freeze({
  tailLines: 20,
  lineChars: 500,
  linesPerSecond: 20,
});

/** Marks a line that was cut at `lineChars`. */
export const CLIPPED = "…";

/** The rate limit's window. */
const WINDOW_MS = 1000;

/**
 * Splits one process's stderr (decoded text, in the chunks it was read in) into lines and keeps
 * the last few.
 *
 * Memory is bounded whatever the process prints: the unfinished line holds at most `lineChars`
 * characters (the rest of an over-long line is dropped as it arrives, so a 10 MB line without a
 * newline costs no more than a short one), and the tail at most `tailLines` such lines. Blank
 * lines are skipped (they say nothing); a trailing `\r` is dropped.
 */
export class StderrTail {
  readonly #limits: Pick<StderrLimits, "tailLines" | "lineChars">;
  readonly #lines: string[] = [];
  #partial = "";
  #clipped = false;

  constructor(limits: Pick<StderrLimits, "tailLines" | "lineChars">) {
    this.#limits = limits;
  }

  /** Adds text; `onLine` gets each line it completes. */
  push(text: string, onLine: (line: string) => void): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      const end = nl === -1 ? text.length : nl;
      if (!this.#clipped) {
        const room = this.#limits.lineChars - this.#partial.length;
        if (end - start > room) {
          // Keep what fits and drop the rest of this line as it arrives.
          this.#partial += text.slice(start, start + room);
          this.#clipped = true;
        } else {
          this.#partial += text.slice(start, end);
        }
      }
      if (nl === -1) return;
      this.#finish(onLine);
      start = nl + 1;
    }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(onLine: (line: string) => void): void {
    if (this.#partial !== "" || this.#clipped) this.#finish(onLine);
  }

  /** The kept lines, oldest first (a copy). */
  get lines(): string[] {
    return [...this.#lines];
  }

  /** Characters held for the line not finished yet (never more than `lineChars`). */
  get pendingChars(): number {
    return this.#partial.length;
  }

  #finish(onLine: (line: string) => void): void {
    let line = this.#partial.endsWith("\r") ? this.#partial.slice(0, -1) : this.#partial;
    if (this.#clipped) line += CLIPPED;
    this.#partial = "";
    this.#clipped = false;
    if (line.trim() === "") return;
    this.#lines.push(line);
    if (this.#lines.length > this.#limits.tailLines) this.#lines.shift();
    onLine(line);
  }
}

/**
 * Passes on at most `perSecond` lines per one-second window (read from the injected clock) and
 * counts the rest. The count is reported as one line, `… K stderr lines suppressed`, before the
 * first line of a later window, or on `flush()` (the process ended), so a chatty agent costs its
 * reader a bounded number of calls and nothing goes unaccounted for.
 */
export class LineRateLimit {
  readonly #perSecond: number;
  readonly #now: () => number;
  readonly #out: (line: string) => void;
  #windowStart = Number.NEGATIVE_INFINITY;
  #passed = 0;
  #suppressed = 0;

  constructor(perSecond: number, now: () => number, out: (line: string) => void) {
    this.#perSecond = perSecond;
    this.#now = now;
    this.#out = out;
  }

  offer(line: string): void {
    const t = this.#now();
    // A clock that went backwards starts a new window too, rather than muting the agent for good.
    if (t - this.#windowStart >= WINDOW_MS || t < this.#windowStart) {
      this.#windowStart = t;
      this.#passed = 0;
      this.flush();
    }
    if (this.#passed < this.#perSecond) {
      this.#passed++;
      this.#out(line);
    } else {
      this.#suppressed++;
    }
  }

  /** Reports the lines suppressed so far, if any. */
  flush(): void {
    if (this.#suppressed === 0) return;
    const n = this.#suppressed;
    this.#suppressed = 0;
    this.#out(`${CLIPPED} ${n} stderr line${n === 1 ? "" : "s"} suppressed`);
  }
}
