// zod/mini, not classic zod: the same schemas for a fraction of the load time (classic costs
// every process that imports this package ~40 ms of start-up; the agentmux command pays it per verb).
import * as z from "zod/mini";

/** A JSON-safe unsigned integer (`u32`/`u64` on the wire; u64 values are limited to 2^53 - 1). */
export const U64 = z.number().check(z.int(), z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));
export const U32 = z.number().check(z.int(), z.minimum(0), z.maximum(0xffff_ffff));
export const I32 = z.number().check(z.int(), z.minimum(-0x8000_0000), z.maximum(0x7fff_ffff));

/** Correlation id a client may put on any command; echoed on every event the command causes. */
export const ReqId = z.string().check(z.minLength(1), z.maxLength(64));

export const ClientKind = z.enum(["host", "renderer", "srv", "tool"]);
export type ClientKind = z.infer<typeof ClientKind>;

export const LifecyclePhase = z.enum(["starting", "running", "quitting", "dead"]);
export type LifecyclePhase = z.infer<typeof LifecyclePhase>;

/**
 * Error codes. The first three are the original protocol's; the rest are
 * agentmux extensions (see the README).
 */
export const ErrorCode = z.enum([
  "invalid_command",
  "not_registered",
  "already_registered",
  "lagged",
  "frame_too_large",
  "unauthorized",
  "not_found",
  "internal",
  "agent_busy",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const SplitPosition = z.enum(["before", "after"]);
export type SplitPosition = z.infer<typeof SplitPosition>;

export const FlexDirection = z.enum(["row", "column"]);
export type FlexDirection = z.infer<typeof FlexDirection>;

/** Any JSON value. */
export const JsonValue = z.json();
export type JsonValue = z.infer<typeof JsonValue>;

/**
 * A meta map or meta patch: a JSON object. In a patch, `null` deletes a key
 * and `"prefix:*": true` clears every key with that prefix (applied by the store).
 */
export const Meta = z.record(z.string(), JsonValue);
export type Meta = z.infer<typeof Meta>;

export const LayoutNodeData = z.looseObject({ blockId: z.string() });

export interface LayoutNode {
  id: string;
  flexDirection: FlexDirection;
  size: number;
  children?: LayoutNode[] | undefined;
  data?: z.infer<typeof LayoutNodeData> | undefined;
  [extra: string]: unknown;
}

/**
 * A node of a tab's layout tree. Unknown keys round-trip untouched (the frontend keeps
 * its own markers there, e.g. the minimize lock's `minimizedSize`). As in the original,
 * an absent `flexDirection` reads as `row` and an absent `size` as 1; JSON has one number
 * type, so a whole-number size is written as an integer (`2`, never `2.0`).
 */
export const LayoutNode: z.ZodMiniType<LayoutNode, unknown> = z.lazy(() =>
  z.looseObject({
    id: z.string(),
    flexDirection: z._default(FlexDirection, "row"),
    size: z._default(z.number().check(z.minimum(0)), 1),
    children: z.optional(z.array(LayoutNode)),
    data: z.optional(LayoutNodeData),
  }),
);

export const ResizeOp = z.strictObject({
  node_id: z.string(),
  size: z.number().check(z.minimum(0), z.maximum(100)),
});
export type ResizeOp = z.infer<typeof ResizeOp>;

/**
 * Client-owned layout slices. REPLACE semantics: an absent, `null` or empty slice clears it
 * (the original reads `leaforder` and `pending_backend_actions` as options, so `null` is
 * accepted there).
 */
export const LayoutClientSlices = z.strictObject({
  leaforder: z.optional(z.nullable(z.array(JsonValue))),
  focused_node_id: z.optional(z.string()),
  magnified_node_id: z.optional(z.string()),
  pending_backend_actions: z.optional(z.nullable(z.array(JsonValue))),
});
export type LayoutClientSlices = z.infer<typeof LayoutClientSlices>;

/** Agent run states (`init` before the first spawn, `running` while a process lives, `done` after it exits). */
export const AgentRunStatus = z.enum(["init", "running", "done"]);
export type AgentRunStatus = z.infer<typeof AgentRunStatus>;

export const AgentUsage = z.strictObject({
  input_tokens: U64,
  output_tokens: U64,
  cache_creation_input_tokens: z._default(U64, 0),
  cache_read_input_tokens: z._default(U64, 0),
  cost_usd: z._default(z.number().check(z.minimum(0)), 0),
});
export type AgentUsage = z.infer<typeof AgentUsage>;

/** A permission request an agent waits on (answer it with `agent_respond`). */
export const AgentInputRequest = z.strictObject({
  request_id: z.string().check(z.minLength(1)),
  tool: z.string(),
  input: JsonValue,
});
export type AgentInputRequest = z.infer<typeof AgentInputRequest>;

/**
 * Why an agent is not making progress: `rate_limit`, `auth`, `overloaded` or
 * `error`; `fatal` = retrying will not help. `stderr` (agentmux extension) is
 * the last lines the agent CLI wrote to stderr, oldest first, given when a
 * spawn or a turn fails; absent when there were none (payloads from before
 * the field parse unchanged, and round-trip without it).
 */
export const AgentFault = z.strictObject({
  kind: z.enum(["rate_limit", "auth", "overloaded", "error"]),
  fatal: z.boolean(),
  message: z.string(),
  resets_at: z._default(z.nullable(z.number().check(z.int())), null),
  stderr: z.optional(z.array(z.string())),
});
export type AgentFault = z.infer<typeof AgentFault>;
