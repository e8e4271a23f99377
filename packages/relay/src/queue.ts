/**
 * Delivery queues (relay.md §3.5): one FIFO lane per target, so two messages
 * to the same target arrive in the order they were accepted while different
 * targets proceed in parallel. Sync and async items share a lane; the only
 * difference is whether somebody awaits the outcome. Nothing is
 * deduplicated: the same text sent twice is two messages.
 *
 * An item enters the queue only after the mailbox accepted it, and leaves it
 * by settling the mailbox (`delivered`/`failed`). Items dropped by a shutdown
 * are *not* settled: they stay `pending`, so a durable mailbox hands them to
 * the next relay through `redeliverPending()`; the in-memory one forgets them
 * with the process, as the reference's queue did.
 */

import { RELAY_EVENT_TYPES, type RelayDeliveryOutcomeEvent, type RelayEvent } from "@agentmux/common-ipc";
import { errorMessageOf } from "./errors.js";
import type { RuntimeLog } from "./host.js";
import type { Delivery, DeliveryOutcome, Mailbox, MailRecord, Transport } from "./transport.js";

/** The live UI streams, as the queue needs them (the server implements this). */
export interface UiEndpoints {
  /** Writes one event on the session's stream; false when it has no open stream. */
  push(session: string, event: RelayEvent): boolean;
  /** Resolves true once the session has an open stream (at once if it has one), false if `signal` aborts first. */
  attached(session: string, signal: AbortSignal): Promise<boolean>;
}

export type QueueTarget = { readonly kind: "member"; readonly transport: Transport } | { readonly kind: "ui" };

export interface QueueItem {
  /** As accepted by the mailbox. */
  readonly record: MailRecord;
  /** The pane envelope for this target. */
  readonly envelope: string;
  readonly mode: "sync" | "async";
  readonly target: QueueTarget;
  readonly quiescenceTimeoutMs?: number;
  readonly turnTimeoutMs?: number;
  /** The sender is a UI session: it is told when its message is dropped at shutdown. */
  readonly senderIsUi?: boolean;
}

export const DELIVERY_QUEUE_DEFAULTS = Object.freeze({
  /** On close, lanes may keep delivering this long before what is left is dropped (the reference's 1500 ms). */
  shutdownGraceMs: 1500,
  /** A sync delivery to a disconnected UI waits this long for it to reconnect (async waits until shutdown). */
  uiSyncTimeoutMs: 30_000,
});

export interface DeliveryQueueOptions {
  readonly bundleName: string;
  readonly mailbox: Mailbox;
  readonly ui: UiEndpoints;
  /** Epoch milliseconds; stamps events and measures UI waits. */
  readonly clock?: () => number;
  readonly log?: RuntimeLog;
  readonly shutdownGraceMs?: number;
  readonly uiSyncTimeoutMs?: number;
}

const DROPPED: DeliveryOutcome = Object.freeze({
  outcome: "dropped_on_shutdown",
  reasonCode: "dropped_on_shutdown",
  reason: "relay shutdown requested before delivery",
});

interface Entry {
  readonly item: QueueItem;
  readonly resolve: (outcome: DeliveryOutcome) => void;
}

interface Lane {
  readonly items: Entry[];
  running: boolean;
}

export class DeliveryQueue {
  readonly #bundleName: string;
  readonly #mailbox: Mailbox;
  readonly #ui: UiEndpoints;
  readonly #clock: () => number;
  readonly #log: RuntimeLog;
  /** Whether a log was given: log details are only built for someone who reads them. */
  readonly #logging: boolean;
  readonly #shutdownGraceMs: number;
  readonly #uiSyncTimeoutMs: number;
  readonly #lanes = new Map<string, Lane>();
  /** Ids queued or being delivered, so a redelivery pass never queues a message twice. */
  readonly #inQueue = new Set<string>();
  readonly #shutdown = new AbortController();
  /**
   * Wake-ups of the deliveries in flight, called when the shutdown aborts. One
   * abort listener serves them all: adding and removing an AbortSignal listener
   * per delivery is a measurable share of a message's path.
   */
  readonly #onShutdown = new Set<() => void>();
  readonly #idleWaiters = new Set<() => void>();
  #closed: Promise<void> | undefined;

  constructor(options: DeliveryQueueOptions) {
    this.#bundleName = options.bundleName;
    this.#mailbox = options.mailbox;
    this.#ui = options.ui;
    this.#clock = options.clock ?? Date.now;
    this.#log = options.log ?? (() => {});
    this.#logging = options.log !== undefined;
    this.#shutdownGraceMs = options.shutdownGraceMs ?? DELIVERY_QUEUE_DEFAULTS.shutdownGraceMs;
    this.#uiSyncTimeoutMs = options.uiSyncTimeoutMs ?? DELIVERY_QUEUE_DEFAULTS.uiSyncTimeoutMs;
    this.#shutdown.signal.addEventListener(
      "abort",
      () => {
        for (const wake of [...this.#onShutdown]) wake();
      },
      { once: true },
    );
  }

  /** Items queued or in delivery. */
  get depth(): number {
    return this.#inQueue.size;
  }

  /** Whether this message is queued or being delivered now. */
  has(messageId: string): boolean {
    return this.#inQueue.has(messageId);
  }

  /** Queues one item behind the others for its target; resolves with its outcome (never rejects). */
  submit(item: QueueItem): Promise<DeliveryOutcome> {
    return new Promise((resolve) => {
      const entry: Entry = { item, resolve };
      if (this.#closed !== undefined) {
        this.#finish(entry, DROPPED);
        return;
      }
      const target = item.record.targetSession;
      let lane = this.#lanes.get(target);
      if (lane === undefined) {
        lane = { items: [], running: false };
        this.#lanes.set(target, lane);
      }
      this.#inQueue.add(item.record.messageId);
      lane.items.push(entry);
      if (!lane.running) {
        lane.running = true;
        void this.#drain(target, lane);
      }
    });
  }

  /**
   * Stops the queue: lanes get `shutdownGraceMs` to finish, then in-flight
   * deliveries are aborted and everything left becomes `dropped_on_shutdown`
   * (UI targets and UI senders are told). Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#idle(this.#shutdownGraceMs);
      this.#shutdown.abort();
      await this.#idle(Number.POSITIVE_INFINITY);
    })();
    return this.#closed;
  }

  async #drain(target: string, lane: Lane): Promise<void> {
    for (;;) {
      const entry = lane.items.shift();
      if (entry === undefined) {
        // Same synchronous step as the empty check: a submit can never find a lane that is about to stop.
        lane.running = false;
        this.#lanes.delete(target);
        if (this.#lanes.size === 0) for (const wake of [...this.#idleWaiters]) wake();
        return;
      }
      const outcome = this.#shutdown.signal.aborted ? DROPPED : await this.#deliver(entry.item);
      await this.#settle(entry.item, outcome);
      this.#finish(entry, outcome);
    }
  }

  /** Resolves when no lane is running, or after `ms`. */
  #idle(ms: number): Promise<void> {
    if (this.#lanes.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#idleWaiters.delete(done);
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
      this.#idleWaiters.add(done);
    });
  }

  async #deliver(item: QueueItem): Promise<DeliveryOutcome> {
    if (item.target.kind === "ui") return this.#deliverToUi(item);
    const { record } = item;
    const delivery: {
      -readonly [K in keyof Delivery]: Delivery[K];
    } = {
      messageId: record.messageId,
      bundleName: record.bundleName,
      senderSession: record.senderSession,
      targetSession: record.targetSession,
      ccSessions: record.ccSessions,
      body: record.body,
      envelope: item.envelope,
      mode: item.mode,
      signal: this.#shutdown.signal,
    };
    if (item.quiescenceTimeoutMs !== undefined) delivery.quiescenceTimeoutMs = item.quiescenceTimeoutMs;
    if (item.turnTimeoutMs !== undefined) delivery.turnTimeoutMs = item.turnTimeoutMs;
    try {
      // A transport that ignores the abort must not hold the shutdown: its late answer is dropped.
      return (await this.#untilShutdown(item.target.transport.deliver(delivery))) ?? DROPPED;
    } catch (err) {
      return {
        outcome: "failed",
        reasonCode: "runtime_transport_write_failed",
        reason: `transport ${item.target.transport.kind} failed: ${errorMessageOf(err)}`,
      };
    }
  }

  /**
   * A UI target gets the message as stream events. While it has no stream the
   * lane waits for it to attach (woken by the hello, not by polling), up to
   * the timeout for the mode.
   */
  async #deliverToUi(item: QueueItem): Promise<DeliveryOutcome> {
    const session = item.record.targetSession;
    const timeoutMs = item.quiescenceTimeoutMs ?? (item.mode === "sync" ? this.#uiSyncTimeoutMs : undefined);
    const started = this.#clock();
    const signal =
      timeoutMs === undefined
        ? this.#shutdown.signal
        : AbortSignal.any([this.#shutdown.signal, AbortSignal.timeout(timeoutMs)]);
    for (;;) {
      if (this.#shutdown.signal.aborted) return DROPPED;
      if (this.#pushToUi(item)) return { outcome: "delivered" };
      if (await this.#ui.attached(session, signal)) continue;
      if (this.#shutdown.signal.aborted) return DROPPED;
      return {
        outcome: "timeout",
        reasonCode: "ui_stream_disconnected",
        reason: `ui relay stream was disconnected for ${this.#clock() - started}ms`,
      };
    }
  }

  /** routed → incoming_message → delivered; false as soon as the stream is gone (the lane retries on reconnect). */
  #pushToUi(item: QueueItem): boolean {
    const { record } = item;
    const session = record.targetSession;
    return (
      this.#ui.push(
        session,
        this.#outcomeEvent(session, { message_id: record.messageId, phase: "routed", outcome: null }),
      ) &&
      this.#ui.push(session, {
        event_type: RELAY_EVENT_TYPES.incomingMessage,
        bundle_name: this.#bundleName,
        target_session: session,
        created_at: this.#now(),
        payload: {
          message_id: record.messageId,
          sender_session: record.senderSession,
          body: record.body,
          cc_sessions: [...record.ccSessions],
        },
      }) &&
      this.#ui.push(
        session,
        this.#outcomeEvent(session, { message_id: record.messageId, phase: "delivered", outcome: "success" }),
      )
    );
  }

  async #settle(item: QueueItem, outcome: DeliveryOutcome): Promise<void> {
    // Dropped items stay pending on purpose: a durable mailbox redelivers them after a restart.
    if (outcome.outcome === "dropped_on_shutdown") return;
    const state = outcome.outcome === "delivered" ? "delivered" : "failed";
    try {
      await this.#mailbox.settle(item.record.messageId, state, outcome);
    } catch (err) {
      this.#log("relay.mailbox.settle_failed", { message_id: item.record.messageId, error: errorMessageOf(err) });
    }
  }

  #finish(entry: Entry, outcome: DeliveryOutcome): void {
    const { record } = entry.item;
    this.#inQueue.delete(record.messageId);
    if (outcome.outcome === "dropped_on_shutdown") this.#tellDropped(entry.item);
    if (this.#logging) {
      this.#log("relay.delivery.outcome", {
        message_id: record.messageId,
        target_session: record.targetSession,
        mode: entry.item.mode,
        outcome: outcome.outcome,
        ...(outcome.reasonCode === undefined ? {} : { reason_code: outcome.reasonCode }),
      });
    }
    entry.resolve(outcome);
  }

  /** The promise's value, or undefined once the shutdown aborts (whichever comes first). */
  #untilShutdown<T>(promise: Promise<T>): Promise<T | undefined> {
    if (this.#shutdown.signal.aborted) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve, reject) => {
      const onAbort = (): void => resolve(undefined);
      this.#onShutdown.add(onAbort);
      promise.then(
        (value) => {
          this.#onShutdown.delete(onAbort);
          resolve(value);
        },
        (err: unknown) => {
          this.#onShutdown.delete(onAbort);
          reject(err);
        },
      );
    });
  }

  /** A UI target, and a UI sender, learn that the message will not arrive (if they are connected to hear it). */
  #tellDropped(item: QueueItem): void {
    const { record } = item;
    const payload: RelayDeliveryOutcomeEvent = {
      message_id: record.messageId,
      phase: "failed",
      outcome: "dropped_on_shutdown",
      reason_code: "dropped_on_shutdown",
      reason: DROPPED.reason,
      sender_session: record.senderSession,
      target_session: record.targetSession,
    };
    if (item.target.kind === "ui")
      this.#ui.push(record.targetSession, this.#outcomeEvent(record.targetSession, payload));
    if (item.senderIsUi === true && record.senderSession !== record.targetSession) {
      this.#ui.push(record.senderSession, this.#outcomeEvent(record.senderSession, payload));
    }
  }

  #outcomeEvent(session: string, payload: RelayDeliveryOutcomeEvent): RelayEvent {
    return {
      event_type: RELAY_EVENT_TYPES.deliveryOutcome,
      bundle_name: this.#bundleName,
      target_session: session,
      created_at: this.#now(),
      payload,
    };
  }

  #now(): string {
    return new Date(this.#clock()).toISOString();
  }
}
