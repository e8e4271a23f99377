import type { BusEvent } from "@agentmux/common-ipc";
import type { Store } from "@agentmux/store";
import type { Logger } from "pino";
import { CheckpointPolicy } from "../checkpoint.js";
import type { Subscription } from "../dispatcher.js";

export const TRANSCRIPT_DEFAULTS = Object.freeze({
  /** The transcript file of an agent block, in the block's file-store zone. */
  file: "output",
  /** Largest `block_output` push; longer writes go out in several. */
  pushBytes: 256 * 1024,
  /**
   * Transcript bytes are no events, so the file store's WAL is checkpointed here: after this
   * many bytes (the WAL grows by up to about three times as much, as appends rewrite the file's
   * last part) and when output goes quiet.
   */
  checkpointBytes: 4 * 1024 * 1024,
  quietCheckpointMs: 1000,
});

/** A `block_output` push (version 0: transcript bytes are not versioned events). */
export type BlockOutput = Extract<BusEvent, { event: "block_output" }>;

export function outputEvent(blockId: string, offset: number, data: string, reqId?: string): BlockOutput {
  const ev: BlockOutput = { event: "block_output", block_id: blockId, offset, data, version: 0 };
  if (reqId !== undefined) ev.req_id = reqId;
  return ev;
}

/** The largest index ≤ `end` that does not split a UTF-8 sequence. */
export function utf8Boundary(buf: Buffer, end: number): number {
  if (end >= buf.length) return buf.length;
  let i = end;
  // Step back over continuation bytes (10xxxxxx) to the start of the sequence end cuts.
  while (i > 0 && i > end - 4 && ((buf[i] as number) & 0xc0) === 0x80) i--;
  return i > 0 ? i : end;
}

/**
 * The end of `buf`'s last complete character: `buf.length`, unless it ends inside a UTF-8
 * sequence (the rest of it not written yet), then where that sequence starts.
 */
export function utf8CompleteEnd(buf: Buffer): number {
  let i = buf.length - 1;
  while (i >= 0 && i > buf.length - 4 && ((buf[i] as number) & 0xc0) === 0x80) i--;
  if (i < 0) return buf.length;
  const lead = buf[i] as number;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - i < need ? i : buf.length;
}

interface Writer {
  /** Bytes waiting for the next append. */
  pending: Buffer[];
  /** The append in progress, if any. */
  writing: Promise<void> | null;
}

/**
 * Agent transcripts: the bytes an agent printed, appended to its block's file
 * in the file store (persisted first), then pushed to subscribers as
 * `block_output`, in slices that never split a UTF-8 sequence. Bytes that
 * arrive while an append is in flight go into the next one together.
 */
export class Transcripts {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #listeners = new Set<(out: BlockOutput) => void>();
  readonly #writers = new Map<string, Writer>();
  readonly #checkpoints: CheckpointPolicy;

  constructor(store: Store, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
    this.#checkpoints = new CheckpointPolicy({
      run: () => store.checkpoint("files"),
      every: TRANSCRIPT_DEFAULTS.checkpointBytes,
      quietMs: TRANSCRIPT_DEFAULTS.quietCheckpointMs,
      logger,
      what: "transcript",
    });
  }

  /** Every transcript push from now on. */
  subscribe(listener: (out: BlockOutput) => void): Subscription {
    this.#listeners.add(listener);
    return { unsubscribe: () => this.#listeners.delete(listener) };
  }

  /** The block's transcript length, creating the file when it has none. */
  async open(blockId: string): Promise<number> {
    const files = this.#store.files;
    const info =
      (await files.stat(blockId, TRANSCRIPT_DEFAULTS.file)) ??
      (await files.makeFile(blockId, TRANSCRIPT_DEFAULTS.file, {}, {}));
    return info.size;
  }

  /** Queues bytes for the block's transcript. */
  append(blockId: string, data: Buffer): void {
    let writer = this.#writers.get(blockId);
    if (writer === undefined) {
      writer = { pending: [], writing: null };
      this.#writers.set(blockId, writer);
    }
    writer.pending.push(data);
    writer.writing ??= this.#write(blockId, writer);
  }

  /** Resolves when what was queued for the block so far is written. */
  async flushed(blockId: string): Promise<void> {
    await this.#writers.get(blockId)?.writing;
  }

  /** Reads up to `limit` bytes from `offset`, never ending inside a UTF-8 sequence. */
  async read(blockId: string, offset: number, limit: number, reqId?: string): Promise<BlockOutput> {
    const files = this.#store.files;
    const info = await files.stat(blockId, TRANSCRIPT_DEFAULTS.file);
    if (info === undefined || offset >= info.size) return outputEvent(blockId, offset, "", reqId);
    const r = await files.read(blockId, TRANSCRIPT_DEFAULTS.file, offset, limit);
    // The rest of a cut sequence comes with the next read.
    const end = r.offset + r.data.length < r.size ? utf8Boundary(r.data, r.data.length) : r.data.length;
    return outputEvent(blockId, r.offset, r.data.toString("utf8", 0, end), reqId);
  }

  /**
   * Reads the up to `limit` bytes that end at `before` (or at the transcript's end, if sooner),
   * never starting inside a UTF-8 sequence: a client pages backwards from the end with it.
   */
  async readBefore(blockId: string, before: number, limit: number, reqId?: string): Promise<BlockOutput> {
    const files = this.#store.files;
    const end = Math.min(before, (await files.stat(blockId, TRANSCRIPT_DEFAULTS.file))?.size ?? 0);
    const start = Math.max(0, end - limit);
    if (end === start) return outputEvent(blockId, end, "", reqId);
    const r = await files.read(blockId, TRANSCRIPT_DEFAULTS.file, start, end - start);
    // A page that starts inside a sequence starts at the next character: the previous page ends
    // there. The transcript's end may still be inside one (being written): it ends before it.
    let skip = 0;
    while (skip < 3 && skip < r.data.length && ((r.data[skip] as number) & 0xc0) === 0x80) skip++;
    const stop = Math.max(skip, utf8CompleteEnd(r.data));
    return outputEvent(blockId, r.offset + skip, r.data.toString("utf8", skip, stop), reqId);
  }

  /**
   * Resolves true once the block's transcript holds `needle` (already, or in a later write);
   * false when `signal` aborts or `timeoutMs` passes first.
   */
  waitFor(
    blockId: string,
    needle: string,
    options: { signal?: AbortSignal; timeoutMs?: number; from?: number } = {},
  ): Promise<boolean> {
    const { signal, timeoutMs, from = 0 } = options;
    return new Promise((resolve) => {
      let tail = "";
      let settled = false;
      const finish = (found: boolean): void => {
        if (settled) return;
        settled = true;
        sub.unsubscribe();
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(found);
      };
      const onAbort = (): void => finish(false);
      const sub = this.subscribe((out) => {
        if (out.block_id !== blockId) return;
        const text = tail + out.data;
        if (text.includes(needle)) finish(true);
        else tail = text.slice(-needle.length);
      });
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(false), timeoutMs);
      if (signal?.aborted) return finish(false);
      signal?.addEventListener("abort", onAbort, { once: true });
      // What was written (from `from` on) before this listened.
      void this.includes(blockId, needle, from).then(
        (found) => found && finish(true),
        () => {},
      );
    });
  }

  /** The block's transcript length in bytes (0 when it has none). */
  async size(blockId: string): Promise<number> {
    await this.flushed(blockId);
    return (await this.#store.files.stat(blockId, TRANSCRIPT_DEFAULTS.file))?.size ?? 0;
  }

  /** Whether the block's transcript holds `needle` anywhere (read in pages; a match across two pages counts). */
  async includes(blockId: string, needle: string, from = 0): Promise<boolean> {
    await this.flushed(blockId);
    const page = Math.max(1024 * 1024, needle.length * 4);
    let offset = from;
    let tail = "";
    for (;;) {
      const out = await this.read(blockId, offset, page);
      if (out.data === "") return false;
      const text = tail + out.data;
      if (text.includes(needle)) return true;
      tail = text.slice(-needle.length);
      offset = out.offset + Buffer.byteLength(out.data);
    }
  }

  /** Drops the block's transcript (its block is gone), after any append in flight. */
  async remove(blockId: string): Promise<void> {
    await this.flushed(blockId);
    this.#writers.delete(blockId);
    await this.#store.files.deleteZone(blockId);
  }

  /** Waits for every append in flight; no quiet checkpoint runs after. */
  async close(): Promise<void> {
    this.#checkpoints.close();
    await Promise.all([...this.#writers.values()].map((w) => w.writing));
  }

  async #write(blockId: string, writer: Writer): Promise<void> {
    try {
      while (writer.pending.length > 0) {
        const batch = writer.pending.length === 1 ? (writer.pending[0] as Buffer) : Buffer.concat(writer.pending);
        writer.pending = [];
        const { offset } = await this.#store.files.append(blockId, TRANSCRIPT_DEFAULTS.file, batch);
        for (let at = 0; at < batch.length; ) {
          const end = utf8Boundary(batch, Math.min(batch.length, at + TRANSCRIPT_DEFAULTS.pushBytes));
          const out = outputEvent(blockId, offset + at, batch.toString("utf8", at, end));
          for (const listener of this.#listeners) {
            try {
              listener(out);
            } catch (err) {
              this.#logger.error({ err, block: blockId }, "a transcript subscriber failed");
            }
          }
          at = end;
        }
        await this.#checkpoints.note(batch.length);
      }
    } catch (err) {
      this.#logger.error({ err, block: blockId }, "could not write the agent transcript");
    } finally {
      writer.writing = null;
    }
  }
}
