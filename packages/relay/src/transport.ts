/**
 * The seams between the relay and the world: a transport puts a message in
 * front of a target (a tmux pane, an agent session in srv, an ACP agent), a
 * mailbox remembers what was accepted. The relay core owns ordering, checks
 * and outcomes; these own only the I/O.
 */

/** One message to one target, already rendered as a pane envelope. */
export interface Delivery {
  readonly messageId: string;
  readonly bundleName: string;
  readonly senderSession: string;
  readonly targetSession: string;
  readonly ccSessions: readonly string[];
  /** The message body as the sender wrote it. */
  readonly body: string;
  /** The pane envelope (see `renderEnvelope`) that the target sees. */
  readonly envelope: string;
  readonly mode: "sync" | "async";
  /** Give up waiting for the target to be ready after this long (undefined: the transport's default for the mode). */
  readonly quiescenceTimeoutMs?: number;
  /** For turn-based targets (ACP, agent sessions): give up on the turn after this long. */
  readonly turnTimeoutMs?: number;
  /** Aborted when the relay shuts down; the transport should stop and report `dropped_on_shutdown`. */
  readonly signal: AbortSignal;
}

export type DeliveryOutcomeKind = "delivered" | "timeout" | "failed" | "dropped_on_shutdown";

export interface DeliveryOutcome {
  readonly outcome: DeliveryOutcomeKind;
  readonly reasonCode?: string;
  readonly reason?: string;
  readonly details?: Record<string, unknown>;
}

/** What `look` shows of a target. */
export type LookSnapshot =
  | { readonly format: "lines"; readonly lines: readonly string[] }
  | {
      readonly format: "entries";
      /** Recent conversation entries, oldest first (transport-defined objects). */
      readonly entries: readonly unknown[];
      readonly freshness: "fresh" | "stale";
      readonly ageMs?: number;
    };

export interface Transport {
  /** Short name reported on the wire (`tmux`, `session`, `acp`). */
  readonly kind: string;
  /** Delivers one message; resolves with its outcome (never rejects for a delivery failure). */
  deliver(delivery: Delivery): Promise<DeliveryOutcome>;
  /** The last `lines` lines (or entries) of the target. */
  look(targetSession: string, lines: number): Promise<LookSnapshot>;
  /** Raw text to the target with no gating (optional: transports that cannot take raw input omit it). */
  raww?(targetSession: string, text: string, options: { noEnter: boolean }): Promise<void>;
}

/**
 * Where a message is in its life, per target. `delivering`: an embedder
 * marked it just before handing it over, so after a crash it knows the
 * target may already have it (the relay itself never sets it).
 */
export type MailState = "pending" | "delivering" | "delivered" | "read" | "failed";

export interface MailRecord {
  readonly messageId: string;
  readonly bundleName: string;
  readonly senderSession: string;
  readonly targetSession: string;
  readonly ccSessions: readonly string[];
  readonly body: string;
  /** RFC 3339. */
  readonly createdAt: string;
  readonly state: MailState;
  /** Set once delivery ended (`delivered`, `timeout`, …). */
  readonly outcome?: DeliveryOutcome;
}

/**
 * Durable memory of accepted messages. `accept` must be durable when it
 * resolves: the relay acknowledges a send only after it. `pending()` is what
 * a restarted relay delivers again; a transport that saw a `messageId`
 * before must not deliver it twice.
 */
export interface Mailbox {
  accept(records: readonly MailRecord[]): Promise<void>;
  settle(messageId: string, state: Exclude<MailState, "pending">, outcome?: DeliveryOutcome): Promise<void>;
  get(messageId: string): Promise<MailRecord | undefined>;
  /** Pending (and delivering) records, oldest first (all targets, or one). */
  pending(targetSession?: string): Promise<MailRecord[]>;
}
