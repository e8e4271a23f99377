// One agent's transcript as the page holds it.
import { normalizeChunk, type TranscriptEvent } from "@agentmux/agent-controller/transcript";
import type { Event } from "@agentmux/common-ipc";
import { dropUtf8Prefix, utf8Length } from "./utf8.js";
import type { Connection } from "./ws.js";

export const FEED_DEFAULTS = Object.freeze({
  pageBytes: 65536,
  /** The largest page read when the transcript's last line alone is longer than a page. */
  maxPageBytes: 16 * 1024 * 1024,
});

type BlockOutput = Extract<Event, { event: "block_output" }>;

/**
 * One agent's transcript as the page holds it. Opening it reads the end first (one page back
 * from the end); earlier history is read backwards, page by page, as the reader scrolls up
 * (`loadEarlier`). New bytes are appended strictly in offset order (so a reconnect, a catch-up
 * read and live pushes never show a line twice or skip one), cut into lines and normalized into
 * the transcript model.
 */
export class TranscriptFeed {
  /** Every event of the complete lines read so far (from `from` on), in order. */
  readonly events: TranscriptEvent[] = [];
  /** The first byte read: history before it is read on demand (`loadEarlier`). */
  from = 0;
  /** Events put before the others by `loadEarlier` so far (positions in `events` moved by it). */
  prepended = 0;
  /** The next byte offset to append: everything before it is in `events` (or in `#rest`). */
  expected = 0;
  /** Bumped on every change, for views that memoize on it. */
  revision = 0;
  /** The first read to the end of the transcript is done. */
  loaded = false;
  /** Earlier history is being read. */
  loadingEarlier = false;
  /** Why the last read failed, if it did. */
  error: string | null = null;
  /** The feed's view is open: srv pushes its output to this page. */
  active = false;
  /** The end of a line that starts before `from` (its events come with the older page). */
  #head = "";
  /** A line still being written, and its offset. */
  #rest = "";
  #restOffset = 0;
  /** The end of the transcript has been read: pushes may be appended. */
  #tailed = false;
  #reading = false;
  #readAgain = false;

  constructor(
    readonly blockId: string,
    readonly provider: string,
    private readonly conn: Connection,
    private readonly changed: () => void,
  ) {}

  /** Whether history before the events held is still unread. */
  get hasEarlier(): boolean {
    return this.from > 0;
  }

  /**
   * Transcript bytes at `offset`: appended only where they continue what is shown; the part of
   * a chunk that starts earlier is dropped (by byte length), and a chunk that starts later
   * means something was missed, read back from srv.
   */
  push(offset: number, data: string): void {
    if (data === "") return;
    if (!this.#tailed || offset > this.expected) {
      void this.catchUp();
      return;
    }
    const text = offset < this.expected ? dropUtf8Prefix(data, this.expected - offset) : data;
    if (text === "") return;
    this.expected += utf8Length(text);
    const out = normalizeChunk(this.provider, this.#rest + text, { offset: this.#restOffset });
    for (const e of out.events) this.events.push(e);
    this.#rest = out.rest;
    this.#restOffset = out.restOffset;
    this.revision++;
    this.changed();
  }

  /**
   * Reads to the end of the transcript: the first time, its last page (backwards from the end);
   * then from `expected`, page by page (`get_block_output` until a page comes back short).
   * Called again while it runs, it reads once more when done.
   */
  async catchUp(): Promise<void> {
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    this.#reading = true;
    try {
      if (!this.#tailed) await this.#readTail();
      for (;;) {
        this.#readAgain = false;
        const limit = FEED_DEFAULTS.pageBytes;
        const out = await this.#read({ offset: this.expected, limit });
        if (out === undefined) break;
        this.push(out.offset, out.data);
        // srv never ends a page inside a UTF-8 sequence, so a full page may be up to 3 bytes short.
        const full = out.data !== "" && utf8Length(out.data) > limit - 4;
        if (!full && !this.#readAgain) break;
      }
      this.error = null;
      if (!this.loaded) {
        this.loaded = true;
        this.revision++;
        this.changed();
      }
    } catch (err) {
      this.#failed(err);
    } finally {
      this.#reading = false;
    }
  }

  /**
   * Reads the page before `from` and puts its events before the others; reads further back
   * while a page holds no whole line (a line longer than a page).
   */
  async loadEarlier(): Promise<void> {
    if (this.loadingEarlier || !this.#tailed || this.from === 0) return;
    this.loadingEarlier = true;
    this.revision++;
    this.changed();
    try {
      while (this.from > 0) {
        const out = await this.#read({ before: this.from, limit: FEED_DEFAULTS.pageBytes });
        if (out === undefined || out.data === "") break;
        const older = this.#cut(out.offset, out.data + this.#head);
        if (older.events.length > 0) {
          this.events.unshift(...older.events);
          this.prepended += older.events.length;
          break;
        }
      }
    } catch (err) {
      this.#failed(err);
    } finally {
      this.loadingEarlier = false;
      this.revision++;
      this.changed();
    }
  }

  /** The last page of the transcript; a bigger one while a page holds no line's start. */
  async #readTail(): Promise<void> {
    for (let limit = FEED_DEFAULTS.pageBytes; ; limit *= 4) {
      const out = await this.#read({
        before: Number.MAX_SAFE_INTEGER,
        limit: Math.min(limit, FEED_DEFAULTS.maxPageBytes),
      });
      if (out === undefined) return;
      const whole = out.offset === 0 || out.data.includes("\n") || limit >= FEED_DEFAULTS.maxPageBytes;
      if (!whole) continue;
      const tail = this.#cut(out.offset, out.data);
      for (const e of tail.events) this.events.push(e);
      this.#rest = tail.rest;
      this.#restOffset = tail.restOffset;
      this.expected = out.offset + utf8Length(out.data);
      this.#tailed = true;
      return;
    }
  }

  /**
   * `text` read from `offset` on, as lines: unless it starts the transcript, what comes before
   * its first newline ends a line that starts earlier and is kept (`#head`) for the older page.
   */
  #cut(offset: number, text: string): { events: TranscriptEvent[]; rest: string; restOffset: number } {
    this.from = offset;
    let body = text;
    let at = offset;
    if (offset > 0) {
      const nl = text.indexOf("\n");
      this.#head = nl === -1 ? text : text.slice(0, nl + 1);
      body = text.slice(this.#head.length);
      at += utf8Length(this.#head);
    } else this.#head = "";
    return normalizeChunk(this.provider, body, { offset: at });
  }

  async #read(page: { offset?: number; before?: number; limit: number }): Promise<BlockOutput | undefined> {
    const [reply] = await this.conn.request({ cmd: "get_block_output", block_id: this.blockId, ...page });
    const out = reply as BlockOutput | undefined;
    return out?.event === "block_output" ? out : undefined;
  }

  #failed(err: unknown): void {
    this.error = (err as Error).message;
    this.revision++;
    this.changed();
  }
}
