/**
 * The package's own mailbox: in memory, so "durable" only for the life of
 * the process. A host that promises delivery across a crash (srv) backs the
 * {@link Mailbox} interface with its store instead.
 */
import { RelayError } from "./errors.js";
import type { DeliveryOutcome, Mailbox, MailRecord, MailState } from "./transport.js";

export interface MemoryMailboxOptions {
  /**
   * How many settled records to keep for `get` (oldest evicted first). Pending
   * records are never evicted: they are the relay's promise to deliver.
   */
  readonly retainSettled?: number;
}

export const MEMORY_MAILBOX_DEFAULTS = Object.freeze({ retainSettled: 1000 });

/** Spent slots at the head of the settle log are dropped once there are this many (and they are most of it). */
const COMPACT_AFTER = 1024;

export class MemoryMailbox implements Mailbox {
  readonly #retainSettled: number;
  /** Insertion order is acceptance order, which `pending()` reports. */
  readonly #records = new Map<string, MailRecord>();
  /**
   * Settled ids, oldest first, for eviction: an append-only log read from
   * `#head`. An id settled again is appended again; its older entry is then
   * stale (its sequence number no longer matches `#settledAt`) and skipped.
   * Why not a Set with delete + add: evicting from a Set's front walks over
   * every deleted slot V8 keeps until the next rehash, a few µs per settle
   * in steady state, on every message's path.
   */
  #log: string[] = [];
  #head = 0;
  /** Sequence number of `#log[0]`. */
  #base = 0;
  /** Settled id → sequence number of its latest entry in the log; its size is the settled count. */
  readonly #settledAt = new Map<string, number>();

  constructor(options: MemoryMailboxOptions = {}) {
    this.#retainSettled = options.retainSettled ?? MEMORY_MAILBOX_DEFAULTS.retainSettled;
  }

  async accept(records: readonly MailRecord[]): Promise<void> {
    // All or nothing: refuse the batch before storing any of it.
    for (const record of records) {
      if (this.#records.has(record.messageId)) {
        throw new RelayError("runtime_internal", `message ${record.messageId} was already accepted`, {
          message_id: record.messageId,
        });
      }
    }
    // A record handed in as pending is kept as is (records are readonly): no copy on every message's path.
    for (const record of records) {
      this.#records.set(record.messageId, record.state === "pending" ? record : { ...record, state: "pending" });
    }
  }

  async settle(messageId: string, state: Exclude<MailState, "pending">, outcome?: DeliveryOutcome): Promise<void> {
    const record = this.#records.get(messageId);
    if (record === undefined) {
      throw new RelayError("runtime_internal", `message ${messageId} is not in the mailbox`, { message_id: messageId });
    }
    this.#records.set(messageId, outcome === undefined ? { ...record, state } : { ...record, state, outcome });
    this.#settledAt.set(messageId, this.#base + this.#log.length);
    this.#log.push(messageId);
    while (this.#settledAt.size > this.#retainSettled && this.#evictOldest());
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#log.length) {
      this.#log = this.#log.slice(this.#head);
      this.#base += this.#head;
      this.#head = 0;
    }
  }

  async get(messageId: string): Promise<MailRecord | undefined> {
    return this.#records.get(messageId);
  }

  async pending(targetSession?: string): Promise<MailRecord[]> {
    const out: MailRecord[] = [];
    for (const record of this.#records.values()) {
      if (record.state !== "pending" && record.state !== "delivering") continue;
      if (targetSession !== undefined && record.targetSession !== targetSession) continue;
      out.push(record);
    }
    return out;
  }

  /** Forgets the record settled longest ago (skipping stale log entries); false if there is none. */
  #evictOldest(): boolean {
    while (this.#head < this.#log.length) {
      const seq = this.#base + this.#head;
      const id = this.#log[this.#head];
      this.#head += 1;
      if (id === undefined || this.#settledAt.get(id) !== seq) continue;
      this.#settledAt.delete(id);
      this.#records.delete(id);
      return true;
    }
    return false;
  }
}
