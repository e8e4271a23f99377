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

export class MemoryMailbox implements Mailbox {
  readonly #retainSettled: number;
  /** Insertion order is acceptance order, which `pending()` reports. */
  readonly #records = new Map<string, MailRecord>();
  /** Settled ids, oldest first, for eviction. */
  readonly #settled = new Set<string>();

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
    for (const record of records) this.#records.set(record.messageId, { ...record, state: "pending" });
  }

  async settle(messageId: string, state: Exclude<MailState, "pending">, outcome?: DeliveryOutcome): Promise<void> {
    const record = this.#records.get(messageId);
    if (record === undefined) {
      throw new RelayError("runtime_internal", `message ${messageId} is not in the mailbox`, { message_id: messageId });
    }
    this.#records.set(messageId, outcome === undefined ? { ...record, state } : { ...record, state, outcome });
    this.#settled.delete(messageId);
    this.#settled.add(messageId);
    for (const old of this.#settled) {
      if (this.#settled.size <= this.#retainSettled) break;
      this.#settled.delete(old);
      this.#records.delete(old);
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
}
