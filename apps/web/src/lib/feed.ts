// One agent's transcript as the page holds it: bytes appended strictly in offset order (so a
// reconnect, a catch-up read and live pushes never show a line twice or skip one), cut into
// lines and normalized into the transcript model.
import { normalizeChunk, type TranscriptEvent } from "@agentmux/agent-controller/transcript";
import type { Event } from "@agentmux/common-ipc";
import { dropUtf8Prefix, utf8Length } from "./utf8.js";
import type { Connection } from "./ws.js";

export const FEED_DEFAULTS = Object.freeze({
  pageBytes: 65536,
});

export class TranscriptFeed {
  /** Every event of the transcript's complete lines, in order. */
  readonly events: TranscriptEvent[] = [];
  /** The next byte offset to append: everything before it is in `events` (or in `#rest`). */
  expected = 0;
  /** Bumped on every change, for views that memoize on it. */
  revision = 0;
  /** The first read to the end of the transcript is done. */
  loaded = false;
  /** Why the last read failed, if it did. */
  error: string | null = null;
  /** The feed's view is open: srv pushes its output to this page. */
  active = false;
  /** A line still being written, and its offset. */
  #rest = "";
  #restOffset = 0;
  #reading = false;
  #readAgain = false;

  constructor(
    readonly blockId: string,
    readonly provider: string,
    private readonly conn: Connection,
    private readonly changed: () => void,
  ) {}

  /**
   * Transcript bytes at `offset`: appended only where they continue what is shown; the part of
   * a chunk that starts earlier is dropped (by byte length), and a chunk that starts later
   * means something was missed, read back from srv.
   */
  push(offset: number, data: string): void {
    if (data === "") return;
    if (offset > this.expected) {
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
   * Reads from `expected` to the end of the transcript, page by page (`get_block_output` until a
   * page comes back short). Called again while it runs, it reads once more when done.
   */
  async catchUp(): Promise<void> {
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    this.#reading = true;
    try {
      for (;;) {
        this.#readAgain = false;
        const limit = FEED_DEFAULTS.pageBytes;
        const [reply] = await this.conn.request({
          cmd: "get_block_output",
          block_id: this.blockId,
          offset: this.expected,
          limit,
        });
        const out = reply as Extract<Event, { event: "block_output" }> | undefined;
        if (out === undefined || out.event !== "block_output") break;
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
      this.error = (err as Error).message;
      this.revision++;
      this.changed();
    } finally {
      this.#reading = false;
    }
  }
}
