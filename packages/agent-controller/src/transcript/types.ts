// The normalized transcript model: one event vocabulary over every provider's raw lines. Plain
// data (JSON-serializable), no classes, no Node: the CLI and a browser dashboard share it.

/** The providers whose raw lines `normalize` understands. */
export type TranscriptProvider = "claude" | "codex" | "gemini" | "acp";

/** What every event carries. */
export interface EventBase {
  /** Byte offset (UTF-8) in the transcript of the line this event came from, when it was given. */
  offset?: number;
  /** The line's own timestamp (ISO 8601), when the provider writes one. */
  timestamp?: string;
  /** The tool call this event happens inside (a claude subagent's `parent_tool_use_id`). */
  parent?: string;
}

/**
 * Message text. `delta: false` is a whole block; `delta: true` a streamed fragment: consecutive
 * fragments concatenate to the message (`mergeDeltas` does it). `preview: true` marks a fragment
 * whose content arrives again, whole, in a later event (claude's `stream_event` lines, written
 * with `--include-partial-messages`): show it live, drop it when reading a finished transcript.
 */
export interface TextEvent extends EventBase {
  type: "text";
  text: string;
  delta: boolean;
  preview?: true;
}

/** The user's side of the conversation, when the provider echoes it (gemini, ACP replays, claude notes). */
export interface UserEvent extends EventBase {
  type: "user";
  text: string;
  delta: boolean;
}

/** The model's reasoning (claude thinking blocks, codex reasoning items, ACP thought chunks). */
export interface ThinkingEvent extends EventBase {
  type: "thinking";
  text: string;
  delta: boolean;
  preview?: true;
}

/** The agent calls a tool. */
export interface ToolCallEvent extends EventBase {
  type: "tool_call";
  /** The provider's id for this call; the matching `tool_result` has the same id. */
  id: string;
  /** The tool's name as the provider gives it (`Bash`, `Read`, `shell`, `run_shell_command`, an ACP title). */
  name: string;
  /** The tool's input, as given (an object for most tools). */
  input: unknown;
  /** One line saying what it does: the command, the path, the pattern… (no newlines, ≤ 200 chars). */
  summary: string;
}

/** A tool call finished. */
export interface ToolResultEvent extends EventBase {
  type: "tool_result";
  id: string;
  ok: boolean;
  /** The start of the output (or of the error), at most 10 lines / 500 characters. */
  preview: string;
  /** Lines in the whole output (0 when there was none). */
  lines: number;
}

/** The agent waits for a yes/no on a tool. */
export interface PermissionRequestEvent extends EventBase {
  type: "permission_request";
  /** The request's id on the wire (claude `request_id`, the ACP JSON-RPC id, as a string). */
  requestId: string;
  tool: string;
  input: unknown;
  /** One line saying what the tool would do (as `tool_call.summary`). */
  summary: string;
  /** The tool call it is about, when the provider says. */
  toolCallId?: string;
  /** The answers offered (ACP), as `{ id, name, kind }`. */
  options?: { id: string; name: string; kind: string }[];
}

/** Token counts. Each provider counts a little differently; see the README. */
export interface TranscriptUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/** A turn ended. */
export interface TurnEndEvent extends EventBase {
  type: "turn_end";
  ok: boolean;
  /** The provider's word for how it ended: `success`, `end_turn`, `cancelled`, `error_max_turns`, `failed`… */
  reason: string;
  /** Why it failed, when it did and the provider said. */
  message?: string;
  usage?: TranscriptUsage;
  /** Cost in USD. `cumulative`: the provider reports its running total for the session (claude), not the turn's. */
  cost?: { usd: number; cumulative: boolean };
  durationMs?: number;
}

/** What went wrong, in the terms a user acts on (the session's fault kinds). */
export type TranscriptErrorKind = "rate_limit" | "auth" | "overloaded" | "error";

/** Something failed. A failed turn is also a `turn_end` with `ok: false`. */
export interface ErrorEvent extends EventBase {
  type: "error";
  kind: TranscriptErrorKind;
  message: string;
  /** True when retrying will not help without a change (bad credentials, a bad request). */
  fatal: boolean;
  /** HTTP status or JSON-RPC error code, when given. */
  code?: number;
  /** Unix seconds when a usage limit resets, when the provider said. */
  resetsAt?: number;
}

/** How much a notice matters: `debug` ones are protocol chatter a log hides by default. */
export type NoticeLevel = "debug" | "info" | "warning";

/** Anything else worth knowing: session start, retries, rate-limit status, plans, mode changes. */
export interface NoticeEvent extends EventBase {
  type: "notice";
  level: NoticeLevel;
  /**
   * What it is: `init` (session start: `sessionId`, `model`, `cwd`), `session_outcome` (how a
   * resume went), `api_retry`, `rate_limit`, `plan`, `status`, `mode`, `usage`, `compaction`,
   * `turn_start`, `tool_update`, … or the provider's own subtype.
   */
  subtype: string;
  message: string;
  sessionId?: string;
  model?: string;
  cwd?: string;
}

/** A line `normalize` does not understand: not JSON, not an object, or of a type it does not know. */
export interface UnknownEvent extends EventBase {
  type: "unknown";
  /** The line's type tag (`type`, an ACP `method` or `sessionUpdate`), or null when it has none. */
  rawType: string | null;
  /** The line, cut at 4096 characters. */
  raw: string;
  /** The line's full length in characters. */
  rawLength: number;
}

export type TranscriptEvent =
  | TextEvent
  | UserEvent
  | ThinkingEvent
  | ToolCallEvent
  | ToolResultEvent
  | PermissionRequestEvent
  | TurnEndEvent
  | ErrorEvent
  | NoticeEvent
  | UnknownEvent;

export type TranscriptEventType = TranscriptEvent["type"];

/** A parsed JSON object line. */
export type JsonObject = Record<string, unknown>;
