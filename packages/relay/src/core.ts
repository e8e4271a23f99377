/**
 * The relay's request handlers (relay.md §3.3), free of sockets: given the
 * identity a stream bound at hello and a parsed request, produce the
 * response. Each handler checks in a fixed order, and every validation
 * comes before authorization, so a caller learns that its request is wrong
 * before learning whether it would have been allowed. The directory is
 * loaded afresh for every hello and request.
 *
 * A chat is acknowledged only once the mailbox holds it; delivery then goes
 * through the per-target queues.
 */
import { randomUUID } from "node:crypto";
import {
  RELAY_RAWW_MAX_BYTES,
  RELAY_SCHEMA_VERSION,
  type RelayChatRequest,
  type RelayChatResponse,
  type RelayChatResult,
  type RelayClientClass,
  type RelayHelloFrame,
  type RelayListResponse,
  type RelayLookRequest,
  type RelayLookResponse,
  type RelayRawwRequest,
  type RelayRawwResponse,
  type RelayRequest,
  type RelayResponse,
  type RelayStatusRequest,
  type RelayStatusResponse,
} from "@agentmux/common-ipc";
import {
  type RelayDirectory,
  type RelayDirectorySnapshot,
  type RelayMember,
  type ResolvedSession,
  resolveSession,
} from "./directory.js";
import { EnvelopeRenderer } from "./envelope.js";
import { errorMessageOf, RelayError } from "./errors.js";
import type { RuntimeLog } from "./host.js";
import { authorize, type Controls } from "./policy.js";
import type { DeliveryQueue, QueueItem, QueueTarget } from "./queue.js";
import type { DeliveryOutcome, Mailbox, MailRecord } from "./transport.js";

/** Who a stream is: fixed at hello, the only sender its requests can have. */
export interface RelayIdentity {
  readonly sessionId: string;
  readonly clientClass: RelayClientClass;
}

/** The stream a request came from. */
export interface RelayRequestContext {
  readonly identity: RelayIdentity;
  /** The frame's `request_id` (a chat reports it when the payload names none). */
  readonly frameRequestId?: string;
  /**
   * Whether the stream still holds its identity. Asked again after every
   * wait, so a request whose stream was superseded meanwhile is refused
   * (`validation_stale_stream_binding`) instead of acting under a name that
   * now belongs to another stream.
   */
  readonly stillBound?: () => boolean;
}

export const RELAY_CORE_DEFAULTS = Object.freeze({
  lookLines: 120,
  lookLinesMin: 1,
  lookLinesMax: 1000,
  /** The relay's default; the MCP tool and CLI default to async and say so explicitly. */
  deliveryMode: "sync" as const,
  /** Transports that answer a raw write while the target is still working on it. */
  inProgressTransports: Object.freeze(["acp"]),
});

type TimeoutField = "quiescence_timeout_ms" | "acp_turn_timeout_ms";

/**
 * Which per-request timeout each target kind honours: panes wait for
 * quiescence, turn-based agents (ACP, srv sessions) for the end of a turn,
 * UI targets for their stream. A transport kind not listed here is not
 * second-guessed.
 */
const TIMEOUT_FIELDS: Readonly<Record<string, readonly TimeoutField[]>> = Object.freeze({
  tmux: ["quiescence_timeout_ms"],
  acp: ["acp_turn_timeout_ms"],
  session: ["acp_turn_timeout_ms"],
  ui: ["quiescence_timeout_ms"],
});

export interface RelayCoreOptions {
  readonly bundleName: string;
  readonly directory: RelayDirectory;
  readonly mailbox: Mailbox;
  readonly queue: DeliveryQueue;
  /** Epoch milliseconds. */
  readonly clock?: () => number;
  /** Message ids; must be UUIDs (the envelope boundary is derived from them). */
  readonly ids?: () => string;
  readonly log?: RuntimeLog;
}

/** The requester as the current configuration knows it. */
interface Principal {
  readonly id: string;
  readonly name: string | undefined;
  readonly isUi: boolean;
  readonly controls: Controls;
  readonly policyRuleId: string | undefined;
}

/** A resolved chat target. */
interface Recipient {
  readonly id: string;
  readonly name: string | undefined;
  readonly target: QueueTarget;
  readonly kind: string;
}

export class RelayCore {
  readonly bundleName: string;
  readonly #directory: RelayDirectory;
  readonly #mailbox: Mailbox;
  readonly #queue: DeliveryQueue;
  readonly #clock: () => number;
  readonly #ids: () => string;
  readonly #log: RuntimeLog;
  /** Whether a log was given: log details are only built for someone who reads them. */
  readonly #logging: boolean;
  readonly #envelopes = new EnvelopeRenderer();

  constructor(options: RelayCoreOptions) {
    this.bundleName = options.bundleName;
    this.#directory = options.directory;
    this.#mailbox = options.mailbox;
    this.#queue = options.queue;
    this.#clock = options.clock ?? Date.now;
    this.#ids = options.ids ?? randomUUID;
    this.#log = options.log ?? (() => {});
    this.#logging = options.log !== undefined;
  }

  /**
   * Checks a hello (§3.2) in order: schema version, bundle, then the
   * identity against the configuration. Claims and conflicts are the
   * server's business; this only says whether the identity exists.
   */
  async admitHello(hello: RelayHelloFrame): Promise<RelayIdentity> {
    if (hello.schema_version !== RELAY_SCHEMA_VERSION) {
      throw new RelayError(
        "validation_invalid_schema_version",
        `unsupported relay schema version ${JSON.stringify(hello.schema_version)}`,
        {
          expected: RELAY_SCHEMA_VERSION,
          received: hello.schema_version,
        },
      );
    }
    this.#checkBundle(hello.bundle_name);
    const snapshot = await this.#directory.load();
    const identity: RelayIdentity = { sessionId: hello.session_id, clientClass: hello.client_class };
    this.#principal(snapshot, identity);
    return identity;
  }

  /** Carries out one request; rejects with a `RelayError` carrying the wire code. */
  async handle(ctx: RelayRequestContext, request: RelayRequest): Promise<RelayResponse> {
    switch (request.operation) {
      case "list":
        checkClaimedIdentity("sender_session", request.sender_session, ctx.identity);
        return this.#list(ctx);
      case "chat":
        return this.#chat(ctx, request);
      case "look":
        return this.#look(ctx, request);
      case "raww":
        return this.#raww(ctx, request);
      case "status":
        return this.#status(ctx, request);
    }
  }

  /** Where the requester's messages are: a session sees only what it sent; a UI sees every message. */
  async #status(ctx: RelayRequestContext, request: RelayStatusRequest): Promise<RelayStatusResponse> {
    const snapshot = await this.#load(ctx);
    this.#principal(snapshot, ctx.identity);
    const seesAll = ctx.identity.clientClass === "ui";
    const messages = await Promise.all(
      request.message_ids.map(async (id) => {
        const record = await this.#mailbox.get(id);
        if (record === undefined || (!seesAll && record.senderSession !== ctx.identity.sessionId))
          return { message_id: id, state: "unknown" as const };
        const outcome = record.outcome;
        return {
          message_id: id,
          state: record.state,
          target_session: record.targetSession,
          ...(outcome === undefined ? {} : { outcome: outcome.outcome }),
          ...(outcome?.reasonCode === undefined ? {} : { reason_code: outcome.reasonCode }),
          ...(outcome?.reason === undefined ? {} : { reason: outcome.reason }),
        };
      }),
    );
    return { kind: "status", schema_version: RELAY_SCHEMA_VERSION, messages };
  }

  /**
   * Queues again what the mailbox still holds as pending (a relay starting
   * over a durable mailbox). Skips what is already queued; a record whose
   * target left the configuration is settled `failed`. Returns how many
   * records were queued.
   */
  async redeliverPending(): Promise<number> {
    const [snapshot, pending] = await Promise.all([this.#directory.load(), this.#mailbox.pending()]);
    let queued = 0;
    for (const record of pending) {
      if (this.#queue.has(record.messageId)) continue;
      const target = resolveSession(snapshot, record.targetSession);
      if (target === undefined) {
        await this.#mailbox.settle(record.messageId, "failed", {
          outcome: "failed",
          reasonCode: "validation_unknown_target",
          reason: `target ${record.targetSession} is no longer configured`,
        });
        continue;
      }
      const sender = resolveSession(snapshot, record.senderSession);
      const envelope = this.#envelopes.render({
        messageId: record.messageId,
        date: new Date(record.createdAt),
        from: address(record.senderSession, displayName(sender)),
        to: [address(record.targetSession, displayName(target))],
        cc: record.ccSessions.map((id) => address(id, displayName(resolveSession(snapshot, id)))),
        body: record.body,
      });
      void this.#queue.submit({
        record,
        envelope,
        mode: "async",
        target: queueTarget(target),
        senderIsUi: sender?.kind === "ui",
      });
      queued += 1;
    }
    return queued;
  }

  async #list(ctx: RelayRequestContext): Promise<RelayListResponse> {
    const snapshot = await this.#load(ctx);
    const requester = this.#principal(snapshot, ctx.identity);
    authorize({ capability: "list.read", ...this.#authBase(requester) });
    const up = snapshot.members.length > 0;
    return {
      kind: "list",
      schema_version: RELAY_SCHEMA_VERSION,
      bundle_name: this.bundleName,
      bundle: {
        id: this.bundleName,
        state: up ? "up" : "down",
        ...(up ? { startup_health: "healthy" as const } : { state_reason_code: "runtime_no_configured_sessions" }),
        startup_failure_count: 0,
        recent_startup_failures: [],
        sessions: snapshot.members.map((m) => ({
          id: m.id,
          ...(m.name === undefined ? {} : { name: m.name }),
          transport: m.transport.kind,
        })),
      },
    };
  }

  /** §3.3 chat check order, then mailbox, then the queues. */
  async #chat(ctx: RelayRequestContext, request: RelayChatRequest): Promise<RelayChatResponse> {
    checkClaimedIdentity("sender_session", request.sender_session, ctx.identity);
    checkChatInput(request);
    const snapshot = await this.#load(ctx);
    const sender = this.#principal(snapshot, ctx.identity);
    const recipients = request.broadcast
      ? snapshot.members.filter((m) => m.id !== sender.id).map(memberRecipient)
      : resolveTargets(snapshot, request.targets);
    const field: TimeoutField | undefined =
      request.quiescence_timeout_ms !== undefined
        ? "quiescence_timeout_ms"
        : request.acp_turn_timeout_ms !== undefined
          ? "acp_turn_timeout_ms"
          : undefined;
    if (field !== undefined) {
      for (const r of recipients) {
        const accepted = TIMEOUT_FIELDS[r.kind];
        if (accepted !== undefined && !accepted.includes(field)) {
          throw new RelayError(
            "validation_invalid_timeout_field_for_transport",
            `${field} does not apply to ${r.id} (transport ${r.kind})`,
            { target_session: r.id, transport: r.kind, field },
          );
        }
      }
    }
    authorize({
      capability: "send.deliver",
      requester: sender.id,
      bundleName: this.bundleName,
      controls: sender.controls,
      policyRuleId: sender.policyRuleId,
      targets: recipients.map((r) => r.id),
    });

    const mode = request.delivery_mode ?? RELAY_CORE_DEFAULTS.deliveryMode;
    const items = this.#chatItems(sender, recipients, request, mode);
    try {
      await this.#mailbox.accept(items.map((i) => i.record));
    } catch (err) {
      throw new RelayError("runtime_internal", `the mailbox did not accept the message: ${errorMessageOf(err)}`, {
        cause: errorMessageOf(err),
      });
    }
    if (this.#logging) for (const item of items) this.#logEnvelope(item.record, recipients);
    const outcomes = items.map((item) => this.#queue.submit(item));

    const base = {
      kind: "chat" as const,
      schema_version: RELAY_SCHEMA_VERSION,
      bundle_name: this.bundleName,
      request_id: request.request_id ?? ctx.frameRequestId ?? this.#ids(),
      sender_session: sender.id,
      ...(sender.name === undefined ? {} : { sender_display_name: sender.name }),
      delivery_mode: mode,
    };
    if (mode === "async") {
      const results = items.map((i) => ({
        target_session: i.record.targetSession,
        message_id: i.record.messageId,
        outcome: "queued" as const,
      }));
      return { ...base, status: "accepted", results };
    }
    const settled = await Promise.all(outcomes);
    const results = items.map((item, n) => chatResult(item.record, settled[n]));
    const delivered = results.filter((r) => r.outcome === "delivered").length;
    const status = delivered === results.length ? "success" : delivered === 0 ? "failure" : "partial";
    return { ...base, status, results };
  }

  /** One record and one envelope per target; `Cc` is the other targets. */
  #chatItems(
    sender: Principal,
    recipients: readonly Recipient[],
    request: RelayChatRequest,
    mode: "sync" | "async",
  ): QueueItem[] {
    const now = new Date(this.#clock());
    const createdAt = this.#envelopes.isoDate(now);
    const from = address(sender.id, sender.name);
    return recipients.map((recipient) => {
      const others = recipients.length === 1 ? [] : recipients.filter((r) => r.id !== recipient.id);
      const record: MailRecord = {
        messageId: this.#ids(),
        bundleName: this.bundleName,
        senderSession: sender.id,
        targetSession: recipient.id,
        ccSessions: others.map((r) => r.id),
        body: request.message,
        createdAt,
        state: "pending",
      };
      const envelope = this.#envelopes.render({
        messageId: record.messageId,
        date: now,
        from,
        to: [address(recipient.id, recipient.name)],
        cc: others.map((r) => address(r.id, r.name)),
        body: request.message,
      });
      // The queue reads these as absent when undefined; plain fields rather than conditional spreads.
      return {
        record,
        envelope,
        mode,
        target: recipient.target,
        quiescenceTimeoutMs: request.quiescence_timeout_ms,
        turnTimeoutMs: request.acp_turn_timeout_ms,
        senderIsUi: sender.isUi,
      };
    });
  }

  /** The machine metadata that never goes into a pane (§3.4). */
  #logEnvelope(record: MailRecord, recipients: readonly Recipient[]): void {
    this.#log("relay.chat.envelope.metadata", {
      schema_version: RELAY_SCHEMA_VERSION,
      message_id: record.messageId,
      bundle_name: record.bundleName,
      sender_session: record.senderSession,
      target_sessions: recipients.map((r) => r.id),
      cc_sessions: record.ccSessions,
      created_at: record.createdAt,
    });
  }

  async #look(ctx: RelayRequestContext, request: RelayLookRequest): Promise<RelayLookResponse> {
    checkClaimedIdentity("requester_session", request.requester_session, ctx.identity);
    if (request.bundle_name !== undefined) this.#checkBundle(request.bundle_name);
    const lines = request.lines ?? RELAY_CORE_DEFAULTS.lookLines;
    if (
      !Number.isInteger(lines) ||
      lines < RELAY_CORE_DEFAULTS.lookLinesMin ||
      lines > RELAY_CORE_DEFAULTS.lookLinesMax
    ) {
      throw new RelayError(
        "validation_invalid_lines",
        `lines must be an integer from ${RELAY_CORE_DEFAULTS.lookLinesMin} to ${RELAY_CORE_DEFAULTS.lookLinesMax}`,
        { lines, min: RELAY_CORE_DEFAULTS.lookLinesMin, max: RELAY_CORE_DEFAULTS.lookLinesMax },
      );
    }
    const snapshot = await this.#load(ctx);
    const requester = this.#principal(snapshot, ctx.identity);
    const member = this.#memberTarget(snapshot, request.target_session, "look");
    authorize({ capability: "look.inspect", ...this.#authBase(requester), target: member.id });
    let snap: Awaited<ReturnType<RelayMember["transport"]["look"]>>;
    try {
      snap = await member.transport.look(member.id, lines);
    } catch (err) {
      if (err instanceof RelayError) throw err;
      throw new RelayError("runtime_target_unavailable", `could not look at ${member.id}: ${errorMessageOf(err)}`, {
        target_session: member.id,
        cause: errorMessageOf(err),
      });
    }
    const base = {
      kind: "look" as const,
      schema_version: RELAY_SCHEMA_VERSION,
      bundle_name: this.bundleName,
      requester_session: requester.id,
      target_session: member.id,
      captured_at: new Date(this.#clock()).toISOString(),
    };
    if (snap.format === "lines") return { ...base, snapshot_format: "lines", snapshot_lines: [...snap.lines] };
    return {
      ...base,
      snapshot_format: "acp_entries_v1",
      snapshot_entries: [...snap.entries],
      freshness: snap.freshness,
      snapshot_source: member.transport.kind,
      ...(snap.ageMs === undefined ? {} : { snapshot_age_ms: snap.ageMs }),
    };
  }

  async #raww(ctx: RelayRequestContext, request: RelayRawwRequest): Promise<RelayRawwResponse> {
    checkClaimedIdentity("sender_session", request.sender_session, ctx.identity);
    if (request.bundle_name !== undefined) this.#checkBundle(request.bundle_name);
    if (request.target_session === "") {
      throw new RelayError("validation_invalid_params", "target_session must not be empty");
    }
    const bytes = Buffer.byteLength(request.text, "utf8");
    if (bytes > RELAY_RAWW_MAX_BYTES) {
      throw new RelayError(
        "validation_invalid_params",
        `raww text is ${bytes} bytes; the limit is ${RELAY_RAWW_MAX_BYTES}`,
        {
          max_bytes: RELAY_RAWW_MAX_BYTES,
          bytes,
        },
      );
    }
    const snapshot = await this.#load(ctx);
    const sender = this.#principal(snapshot, ctx.identity);
    const member = this.#memberTarget(snapshot, request.target_session, "raww");
    const { transport } = member;
    if (transport.raww === undefined) {
      throw new RelayError(
        "validation_invalid_params",
        `transport ${transport.kind} of ${member.id} takes no raw input`,
        {
          target_session: member.id,
          transport: transport.kind,
        },
      );
    }
    authorize({ capability: "raww.write", ...this.#authBase(sender), target: member.id });
    const messageId = this.#ids();
    try {
      await transport.raww(member.id, request.text, { noEnter: request.no_enter });
    } catch (err) {
      if (err instanceof RelayError) throw err;
      throw new RelayError(
        "runtime_transport_write_failed",
        `raw write to ${member.id} failed: ${errorMessageOf(err)}`,
        {
          target_session: member.id,
          transport: transport.kind,
          cause: errorMessageOf(err),
        },
      );
    }
    return {
      kind: "raww",
      schema_version: RELAY_SCHEMA_VERSION,
      status: "accepted",
      target_session: member.id,
      transport: transport.kind,
      message_id: messageId,
      details: {
        delivery_phase: RELAY_CORE_DEFAULTS.inProgressTransports.includes(transport.kind)
          ? "accepted_in_progress"
          : "accepted_dispatched",
      },
    };
  }

  /** The configuration as of now, provided the stream still speaks for its identity. */
  async #load(ctx: RelayRequestContext): Promise<RelayDirectorySnapshot> {
    const snapshot = await this.#directory.load();
    if (ctx.stillBound !== undefined && !ctx.stillBound()) {
      throw new RelayError("validation_stale_stream_binding", "this stream's identity was claimed by a newer hello", {
        bundle_name: this.bundleName,
        session_id: ctx.identity.sessionId,
      });
    }
    return snapshot;
  }

  #checkBundle(bundleName: string): void {
    if (bundleName !== this.bundleName) {
      throw new RelayError(
        "validation_cross_bundle_unsupported",
        `this relay serves bundle ${this.bundleName}, not ${bundleName}`,
        { bundle_name: this.bundleName, requested_bundle: bundleName },
      );
    }
  }

  /**
   * The stream's identity in the current configuration: an agent must be a
   * member, a UI a configured UI with a resolvable policy.
   */
  #principal(snapshot: RelayDirectorySnapshot, identity: RelayIdentity): Principal {
    const entry =
      identity.clientClass === "agent"
        ? snapshot.members.find((m) => m.id === identity.sessionId)
        : snapshot.uis.find((u) => u.id === identity.sessionId);
    if (entry === undefined) {
      const where = identity.clientClass === "agent" ? "a member of bundle" : "a configured UI session of bundle";
      throw new RelayError("validation_unknown_sender", `${identity.sessionId} is not ${where} ${this.bundleName}`, {
        session_id: identity.sessionId,
        client_class: identity.clientClass,
        bundle_name: this.bundleName,
      });
    }
    if (entry.controls === undefined) {
      throw new RelayError("validation_unknown_policy", `the policy of ${identity.sessionId} is not defined`, {
        session_id: identity.sessionId,
        ...(entry.policyRuleId === undefined ? {} : { policy_id: entry.policyRuleId }),
      });
    }
    // Built on every request: plain fields (undefined when absent) rather than conditional spreads.
    return {
      id: entry.id,
      name: entry.name,
      isUi: identity.clientClass === "ui",
      controls: entry.controls,
      policyRuleId: entry.policyRuleId,
    };
  }

  #authBase(principal: Principal): {
    requester: string;
    bundleName: string;
    controls: Controls;
    policyRuleId?: string;
  } {
    return {
      requester: principal.id,
      bundleName: this.bundleName,
      controls: principal.controls,
      policyRuleId: principal.policyRuleId,
    };
  }

  /** look/raww reach members only: a UI has no pane to show or type into. */
  #memberTarget(snapshot: RelayDirectorySnapshot, id: string, operation: "look" | "raww"): RelayMember {
    const resolved = resolveSession(snapshot, id);
    if (resolved?.kind === "member") return resolved.member;
    if (resolved?.kind === "ui") {
      throw new RelayError("validation_invalid_params", `${operation} cannot target UI session ${id}`, {
        target_session: id,
      });
    }
    throw new RelayError(
      "validation_unknown_target",
      `${JSON.stringify(id)} is not a session of bundle ${this.bundleName}`,
      {
        unknown_targets: [id],
      },
    );
  }
}

/** A request that names its sender must name the stream's own identity (the reference trusted the payload). */
function checkClaimedIdentity(
  field: "sender_session" | "requester_session",
  claimed: string | undefined,
  identity: RelayIdentity,
): void {
  if (claimed === undefined || claimed === identity.sessionId) return;
  throw new RelayError(
    "validation_invalid_params",
    `${field} ${JSON.stringify(claimed)} does not match the identity bound at hello (${identity.sessionId})`,
    { field, [field]: claimed, bound_session: identity.sessionId },
  );
}

/** Canonical ids only, each once, in the order given; anything else is reported together. */
function resolveTargets(snapshot: RelayDirectorySnapshot, targets: readonly string[]): Recipient[] {
  const unknown: string[] = [];
  const out: Recipient[] = [];
  // Most sends name one target: no need for a Set to drop repeats.
  for (const id of targets.length === 1 ? targets : new Set(targets)) {
    const resolved = resolveSession(snapshot, id);
    if (resolved === undefined) unknown.push(id);
    else out.push(resolved.kind === "member" ? memberRecipient(resolved.member) : uiRecipient(resolved));
  }
  if (unknown.length > 0) {
    throw new RelayError("validation_unknown_target", `unknown target session(s): ${unknown.join(", ")}`, {
      unknown_targets: unknown,
    });
  }
  return out;
}

function memberRecipient(member: RelayMember): Recipient {
  return {
    id: member.id,
    name: member.name,
    target: { kind: "member", transport: member.transport },
    kind: member.transport.kind,
  };
}

const UI_TARGET: QueueTarget = Object.freeze({ kind: "ui" });

function uiRecipient(resolved: ResolvedSession & { kind: "ui" }): Recipient {
  return { id: resolved.ui.id, name: resolved.ui.name, target: UI_TARGET, kind: "ui" };
}

function queueTarget(resolved: ResolvedSession): QueueTarget {
  return resolved.kind === "member" ? { kind: "member", transport: resolved.member.transport } : { kind: "ui" };
}

function displayName(resolved: ResolvedSession | undefined): string | undefined {
  if (resolved === undefined) return undefined;
  return resolved.kind === "member" ? resolved.member.name : resolved.ui.name;
}

function address(session: string, display: string | undefined): { session: string; display?: string } {
  return display === undefined ? { session } : { session, display };
}

function chatResult(record: MailRecord, outcome: DeliveryOutcome | undefined): RelayChatResult {
  const o = outcome ?? { outcome: "failed", reason: "no outcome" };
  return {
    target_session: record.targetSession,
    message_id: record.messageId,
    outcome: o.outcome,
    ...(o.reasonCode === undefined ? {} : { reason_code: o.reasonCode }),
    ...(o.reason === undefined ? {} : { reason: o.reason }),
    ...(o.details === undefined ? {} : { details: o.details }),
  };
}

/** Any failure as the wire's error: a `RelayError` as is, anything else as `runtime_internal`. */
export function toRelayError(err: unknown): RelayError {
  if (err instanceof RelayError) return err;
  return new RelayError("runtime_internal", `internal relay error: ${errorMessageOf(err)}`, {
    cause: errorMessageOf(err),
  });
}

/** What a chat request must satisfy before the bundle is consulted (relay.md §3.3, in its order). */
export interface ChatInput {
  readonly message: string;
  readonly targets: readonly string[];
  readonly broadcast: boolean;
  readonly quiescence_timeout_ms?: number | undefined;
  readonly acp_turn_timeout_ms?: number | undefined;
}

/**
 * The chat checks that need no configuration, in the reference's order; throws the first
 * failing one as a `RelayError`. Exported so a front end (an MCP server) answers exactly as the
 * relay would, before it connects.
 */
export function checkChatInput(request: ChatInput): void {
  if (request.message.trim() === "") {
    throw new RelayError("validation_invalid_arguments", "message must not be empty");
  }
  if (request.targets.length === 0 && !request.broadcast) {
    throw new RelayError("validation_empty_targets", "name at least one target, or broadcast");
  }
  if (request.targets.length > 0 && request.broadcast) {
    throw new RelayError("validation_conflicting_targets", "targets and broadcast are mutually exclusive");
  }
  if (request.quiescence_timeout_ms === 0) {
    throw new RelayError("validation_invalid_quiescence_timeout", "quiescence_timeout_ms must be greater than 0");
  }
  if (request.acp_turn_timeout_ms === 0) {
    throw new RelayError("validation_invalid_acp_turn_timeout", "acp_turn_timeout_ms must be greater than 0");
  }
  if (request.quiescence_timeout_ms !== undefined && request.acp_turn_timeout_ms !== undefined) {
    throw new RelayError(
      "validation_conflicting_timeout_fields",
      "quiescence_timeout_ms and acp_turn_timeout_ms are mutually exclusive",
    );
  }
}
