/**
 * The relay wire (reference/relay.md §3.2–3.3): NDJSON frames on a bundle's
 * relay socket. A client opens a persistent stream with `hello`, the relay
 * binds the stream to that identity and answers `hello_ack`; after that the
 * client sends `request` frames and the relay answers each with a `response`
 * echoing its `request_id`, and pushes `event` frames (UI deliveries) at any
 * time.
 *
 * Client frames are strict (an unknown key is a parse error, so a typo never
 * silently changes a request); relay frames are loose, so an older client
 * keeps reading a newer relay. Value checks the relay reports with their own
 * codes (an empty message, `lines` out of range, a zero timeout, the schema
 * version) are deliberately *not* made here: a schema failure is only ever
 * "failed to parse relay request".
 */
import * as z from "zod/mini";

/** The only `schema_version` this wire speaks; every success response carries it. */
export const RELAY_SCHEMA_VERSION = "1";

/** Largest `raww.text` in UTF-8 bytes (a raw write is keystrokes, not a document). */
export const RELAY_RAWW_MAX_BYTES = 32 * 1024;

/** Longest `request_id` a client may choose (it is echoed on every response). */
export const RELAY_REQUEST_ID_MAX_LENGTH = 128;

export const RelayClientClass = z.enum(["agent", "ui"]);
export type RelayClientClass = z.infer<typeof RelayClientClass>;

export const RelayDeliveryMode = z.enum(["sync", "async"]);
export type RelayDeliveryMode = z.infer<typeof RelayDeliveryMode>;

const RequestId = z.string().check(z.minLength(1), z.maxLength(RELAY_REQUEST_ID_MAX_LENGTH));
/** Milliseconds; 0 is parsed so the relay can refuse it with its own code. */
const Millis = z.number().check(z.int(), z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));

// --- client → relay ----------------------------------------------------------

export const RelayHelloFrame = z.strictObject({
  frame: z.literal("hello"),
  /** Checked by the relay (`validation_invalid_schema_version`), not here. */
  schema_version: z.string(),
  bundle_name: z.string(),
  session_id: z.string(),
  client_class: RelayClientClass,
  /**
   * agentmux extension. `false`: this stream only makes requests (a CLI
   * command): it claims no identity (so several can run at once, beside the
   * session's own stream) and messages for the session are never pushed to
   * it. Default true.
   */
  inbox: z.optional(z.boolean()),
});
export type RelayHelloFrame = z.infer<typeof RelayHelloFrame>;

/**
 * The sender fields below are optional: the sender is the identity bound at
 * hello. When present they must equal it (otherwise `validation_invalid_params`).
 */
export const RelayListRequest = z.strictObject({
  operation: z.literal("list"),
  sender_session: z.optional(z.string()),
});

export const RelayChatRequest = z.strictObject({
  operation: z.literal("chat"),
  /** Reported back in the response; the frame's `request_id` when absent. */
  request_id: z.optional(RequestId),
  sender_session: z.optional(z.string()),
  message: z.string(),
  targets: z._default(z.array(z.string()), []),
  broadcast: z._default(z.boolean(), false),
  /** Relay default `sync`. */
  delivery_mode: z.optional(RelayDeliveryMode),
  quiescence_timeout_ms: z.optional(Millis),
  acp_turn_timeout_ms: z.optional(Millis),
});

export const RelayLookRequest = z.strictObject({
  operation: z.literal("look"),
  requester_session: z.optional(z.string()),
  target_session: z.string(),
  /** Default 120, must be 1..1000 (checked by the relay: `validation_invalid_lines`). */
  lines: z.optional(z.number()),
  bundle_name: z.optional(z.string()),
});

export const RelayRawwRequest = z.strictObject({
  operation: z.literal("raww"),
  request_id: z.optional(RequestId),
  sender_session: z.optional(z.string()),
  target_session: z.string(),
  text: z.string(),
  no_enter: z._default(z.boolean(), false),
  bundle_name: z.optional(z.string()),
});

/**
 * agentmux extension: where messages are now (pending, delivering, delivered,
 * read, failed), for the session that sent them (or a UI). Ids the relay does
 * not know, or that the requester did not send, come back as `unknown`.
 */
export const RelayStatusRequest = z.strictObject({
  operation: z.literal("status"),
  message_ids: z.array(z.string().check(z.minLength(1))).check(z.minLength(1), z.maxLength(1000)),
});

export const RelayRequest = z.discriminatedUnion("operation", [
  RelayListRequest,
  RelayChatRequest,
  RelayLookRequest,
  RelayRawwRequest,
  RelayStatusRequest,
]);
export type RelayRequest = z.infer<typeof RelayRequest>;
/** What a client writes (before defaults are applied). */
export type RelayRequestInput = z.input<typeof RelayRequest>;
export type RelayListRequest = z.infer<typeof RelayListRequest>;
export type RelayChatRequest = z.infer<typeof RelayChatRequest>;
export type RelayLookRequest = z.infer<typeof RelayLookRequest>;
export type RelayRawwRequest = z.infer<typeof RelayRawwRequest>;
export type RelayStatusRequest = z.infer<typeof RelayStatusRequest>;

export const RelayRequestFrame = z.strictObject({
  frame: z.literal("request"),
  /** Echoed on the response; a client that omits it cannot tell concurrent answers apart. */
  request_id: z.optional(RequestId),
  request: RelayRequest,
});
export type RelayRequestFrame = z.infer<typeof RelayRequestFrame>;

export const RelayClientFrame = z.discriminatedUnion("frame", [RelayHelloFrame, RelayRequestFrame]);
export type RelayClientFrame = z.infer<typeof RelayClientFrame>;

// --- relay → client ----------------------------------------------------------

const Details = z.record(z.string(), z.unknown());

export const RelayHelloAckFrame = z.object({
  frame: z.literal("hello_ack"),
  schema_version: z.string(),
  bundle_name: z.string(),
  session_id: z.string(),
  client_class: RelayClientClass,
});
export type RelayHelloAckFrame = z.infer<typeof RelayHelloAckFrame>;

export const RelayErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  details: z.optional(Details),
});
export type RelayErrorBody = z.infer<typeof RelayErrorBody>;

export const RelayErrorResponse = z.object({ kind: z.literal("error"), error: RelayErrorBody });

export const RelaySessionSummary = z.object({
  id: z.string(),
  name: z.optional(z.string()),
  /** The transport's kind (`tmux`, `acp`, `session`, …). */
  transport: z.string(),
});

export const RelayListResponse = z.object({
  kind: z.literal("list"),
  schema_version: z.string(),
  bundle_name: z.string(),
  bundle: z.object({
    id: z.string(),
    state: z.enum(["up", "down"]),
    /** Only when up. */
    startup_health: z.optional(z.enum(["healthy", "degraded"])),
    /** Only when down (`runtime_no_configured_sessions`, `runtime_startup_failed`). */
    state_reason_code: z.optional(z.string()),
    startup_failure_count: z.number(),
    recent_startup_failures: z.array(z.unknown()),
    sessions: z.array(RelaySessionSummary),
  }),
});

export const RelayChatOutcome = z.enum(["queued", "delivered", "timeout", "dropped_on_shutdown", "failed"]);
export type RelayChatOutcome = z.infer<typeof RelayChatOutcome>;

export const RelayChatResult = z.object({
  target_session: z.string(),
  /** One UUID per target. */
  message_id: z.string(),
  outcome: RelayChatOutcome,
  reason_code: z.optional(z.string()),
  reason: z.optional(z.string()),
  details: z.optional(Details),
});
export type RelayChatResult = z.infer<typeof RelayChatResult>;

export const RelayChatStatus = z.enum(["accepted", "success", "partial", "failure"]);
export type RelayChatStatus = z.infer<typeof RelayChatStatus>;

export const RelayChatResponse = z.object({
  kind: z.literal("chat"),
  schema_version: z.string(),
  bundle_name: z.string(),
  request_id: z.string(),
  sender_session: z.string(),
  sender_display_name: z.optional(z.string()),
  delivery_mode: RelayDeliveryMode,
  /** async: `accepted`; sync: `success` (also for zero targets), `partial` or `failure`. */
  status: RelayChatStatus,
  results: z.array(RelayChatResult),
});

export const RelayLookResponse = z.object({
  kind: z.literal("look"),
  schema_version: z.string(),
  bundle_name: z.string(),
  requester_session: z.string(),
  target_session: z.string(),
  captured_at: z.string(),
  snapshot_format: z.enum(["lines", "acp_entries_v1"]),
  /** `lines` format. */
  snapshot_lines: z.optional(z.array(z.string())),
  /** `acp_entries_v1` format, with the four fields after it. */
  snapshot_entries: z.optional(z.array(z.unknown())),
  freshness: z.optional(z.enum(["fresh", "stale"])),
  snapshot_source: z.optional(z.string()),
  stale_reason_code: z.optional(z.string()),
  snapshot_age_ms: z.optional(z.number()),
});

export const RelayRawwResponse = z.object({
  kind: z.literal("raww"),
  schema_version: z.string(),
  status: z.literal("accepted"),
  target_session: z.string(),
  transport: z.string(),
  message_id: z.string(),
  details: z.object({ delivery_phase: z.enum(["accepted_dispatched", "accepted_in_progress"]) }),
});

export const RelayMessageState = z.enum(["pending", "delivering", "delivered", "read", "failed", "unknown"]);

export const RelayStatusResponse = z.object({
  kind: z.literal("status"),
  schema_version: z.string(),
  messages: z.array(
    z.object({
      message_id: z.string(),
      state: RelayMessageState,
      target_session: z.optional(z.string()),
      /** When the delivery ended: its outcome (`delivered`, `timeout`, `failed`, …) and why. */
      outcome: z.optional(RelayChatOutcome),
      reason_code: z.optional(z.string()),
      reason: z.optional(z.string()),
    }),
  ),
});

export const RelayResponse = z.discriminatedUnion("kind", [
  RelayErrorResponse,
  RelayListResponse,
  RelayChatResponse,
  RelayLookResponse,
  RelayRawwResponse,
  RelayStatusResponse,
]);
export type RelayResponse = z.infer<typeof RelayResponse>;
export type RelayErrorResponse = z.infer<typeof RelayErrorResponse>;
export type RelayListResponse = z.infer<typeof RelayListResponse>;
export type RelayChatResponse = z.infer<typeof RelayChatResponse>;
export type RelayLookResponse = z.infer<typeof RelayLookResponse>;
export type RelayRawwResponse = z.infer<typeof RelayRawwResponse>;
export type RelayStatusResponse = z.infer<typeof RelayStatusResponse>;

export const RelayResponseFrame = z.object({
  frame: z.literal("response"),
  /** Absent on errors that end the stream (hello refused, frame unreadable, relay full). */
  request_id: z.optional(z.string()),
  response: RelayResponse,
});
export type RelayResponseFrame = z.infer<typeof RelayResponseFrame>;

/** Event types the relay pushes today (clients should ignore others). */
export const RELAY_EVENT_TYPES = Object.freeze({
  incomingMessage: "incoming_message",
  deliveryOutcome: "delivery_outcome",
} as const);

export const RelayEvent = z.object({
  event_type: z.string(),
  bundle_name: z.string(),
  /** The session this event is for (the stream it is pushed on). */
  target_session: z.string(),
  /** RFC 3339. */
  created_at: z.string(),
  payload: Details,
});
export type RelayEvent = z.infer<typeof RelayEvent>;

/** `incoming_message` payload: a message for a UI session. */
export const RelayIncomingMessage = z.object({
  message_id: z.string(),
  sender_session: z.string(),
  body: z.string(),
  cc_sessions: z.array(z.string()),
});
export type RelayIncomingMessage = z.infer<typeof RelayIncomingMessage>;

export const RelayDeliveryPhase = z.enum(["routed", "delivered", "failed"]);
export type RelayDeliveryPhase = z.infer<typeof RelayDeliveryPhase>;

/**
 * `delivery_outcome` payload. A UI target sees `routed` (outcome null), then
 * `delivered` (outcome `success`); `failed` carries the reason, e.g.
 * `dropped_on_shutdown`, and is also sent to a UI *sender* whose message was
 * dropped (then `target_session` names the message's target).
 */
export const RelayDeliveryOutcomeEvent = z.object({
  message_id: z.string(),
  phase: RelayDeliveryPhase,
  outcome: z.nullable(z.string()),
  reason_code: z.optional(z.string()),
  reason: z.optional(z.string()),
  sender_session: z.optional(z.string()),
  target_session: z.optional(z.string()),
});
export type RelayDeliveryOutcomeEvent = z.infer<typeof RelayDeliveryOutcomeEvent>;

export const RelayEventFrame = z.object({ frame: z.literal("event"), event: RelayEvent });
export type RelayEventFrame = z.infer<typeof RelayEventFrame>;

export const RelayServerFrame = z.discriminatedUnion("frame", [
  RelayHelloAckFrame,
  RelayResponseFrame,
  RelayEventFrame,
]);
export type RelayServerFrame = z.infer<typeof RelayServerFrame>;
