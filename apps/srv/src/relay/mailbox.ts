/**
 * The relay's mailbox on srv's store, so a message the relay acknowledged
 * survives a crash of srv (kill -9 included): the relay acknowledges a send
 * only once `accept` resolved, and the store resolves it only once the
 * records are committed. The relay package knows no store and the store no
 * relay; this adapter is the only place the two meet.
 *
 * `settle` is WRITE-BEHIND: it queues the store's `mark` and resolves at
 * once; the mark commits with the store's next group commit (in the same
 * turn of the event loop). Why: the relay settles a message before it starts
 * delivering the next one to the same target, so a settle that waited for
 * its own commit would cost one commit per message on every target's lane
 * (measured: 4k messages/s delivered to one target, 1.5k with synchronous
 * FULL, against 10k with write-behind). What it costs: a crash can lose the
 * settles of the last loop turn, and those messages are delivered again
 * after the restart (at least once, as after a crash mid-delivery). Where
 * srv marks a message `delivering` before handing it over, nothing is lost
 * at all: the store commits in call order, so every earlier settle is
 * durable by the time `markDelivering` resolves, and a lost last settle
 * shows as `delivering`, the case that mark exists for. Reads through this
 * mailbox wait for the settles they could see, so they never go back in time.
 *
 * Plain TypeScript (no parameter properties, no enums) so that Node can also
 * run it straight from source, as the crash test and the benchmark do.
 */
import type { DeliveryOutcome, Mailbox, MailRecord, MailState, RuntimeLog } from "@agentmux/relay";
import { CorruptMailError, type MailStore, type StoredMail } from "@agentmux/store";
import { z } from "zod";

/** A stored outcome is read back from a file: it is checked before the relay sees it. */
const OutcomeShape = z.object({
  outcome: z.enum(["delivered", "timeout", "failed", "dropped_on_shutdown"]),
  reasonCode: z.string().optional(),
  reason: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export interface StoreMailboxOptions {
  /** Where a failed settle is reported (`relay.mailbox.settle_failed`, as the relay reports its own). */
  readonly log?: RuntimeLog;
}

export class StoreMailbox implements Mailbox {
  readonly #mail: MailStore;
  readonly #log: RuntimeLog;
  /** Settles queued and not yet committed, by message id (the latest one per id). */
  readonly #settling = new Map<string, Promise<void>>();

  constructor(mail: MailStore, options: StoreMailboxOptions = {}) {
    this.#mail = mail;
    this.#log = options.log ?? (() => {});
  }

  /** Durable when it resolves; records already stored are left as they are (the store is idempotent on id). */
  accept(records: readonly MailRecord[]): Promise<void> {
    return this.#mail.accept(records);
  }

  /** Queues the mark and resolves at once (see the module comment); a failure is logged, not thrown. */
  settle(messageId: string, state: Exclude<MailState, "pending">, outcome?: DeliveryOutcome): Promise<void> {
    const tracked: Promise<void> = this.#mail
      .mark(messageId, state, outcome === undefined ? undefined : { ...outcome })
      .catch((err: unknown) => {
        this.#log("relay.mailbox.settle_failed", {
          message_id: messageId,
          state,
          error: err instanceof Error ? err.message : String(err),
        });
      })
      .finally(() => {
        if (this.#settling.get(messageId) === tracked) this.#settling.delete(messageId);
      });
    // The store commits in call order, so waiting for the latest settle of an id covers the earlier ones.
    this.#settling.set(messageId, tracked);
    return Promise.resolve();
  }

  /**
   * Marks a message as being handed to its target now, durably (and with it
   * every settle queued before). srv calls it right before it gives the
   * message to an agent: a record still `delivering` at the next start was
   * interrupted by a crash, and the agent may have it.
   */
  markDelivering(messageId: string): Promise<void> {
    return this.#mail.mark(messageId, "delivering");
  }

  /** Resolves once every settle made so far is committed (or reported as failed). */
  async flush(): Promise<void> {
    await Promise.all(this.#settling.values());
  }

  async get(messageId: string): Promise<MailRecord | undefined> {
    await this.#settling.get(messageId);
    const stored = await this.#mail.get(messageId);
    return stored === undefined ? undefined : toRecord(stored);
  }

  /** `pending` and `delivering` records, oldest first. */
  async pending(targetSession?: string): Promise<MailRecord[]> {
    await this.flush();
    return (await this.#mail.pending(targetSession)).map(toRecord);
  }
}

function toRecord(stored: StoredMail): MailRecord {
  const record: MailRecord = {
    messageId: stored.messageId,
    bundleName: stored.bundleName,
    senderSession: stored.senderSession,
    targetSession: stored.targetSession,
    ccSessions: stored.ccSessions,
    body: stored.body,
    createdAt: stored.createdAt,
    state: stored.state,
  };
  if (stored.outcome === null) return record;
  const outcome = OutcomeShape.safeParse(stored.outcome);
  if (!outcome.success) {
    const issue = outcome.error.issues[0];
    throw new CorruptMailError(stored.messageId, `outcome: ${issue?.path.join(".") || "value"}: ${issue?.message}`);
  }
  return { ...record, outcome: deliveryOutcome(outcome.data) };
}

/** The parsed outcome without absent keys (exactOptionalPropertyTypes). */
function deliveryOutcome(o: z.infer<typeof OutcomeShape>): DeliveryOutcome {
  return {
    outcome: o.outcome,
    ...(o.reasonCode === undefined ? {} : { reasonCode: o.reasonCode }),
    ...(o.reason === undefined ? {} : { reason: o.reason }),
    ...(o.details === undefined ? {} : { details: o.details }),
  };
}
