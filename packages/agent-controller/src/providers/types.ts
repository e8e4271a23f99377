// zod/mini: the same checks as classic zod, without its method chains (and the locales they pull
// in), so that a bundle that takes only part of this package (the launcher's) stays small.
import * as z from "zod/mini";

/** Tokens and cost. Per turn from each end-of-turn line; per session as the sum. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cost_usd: number;
}

export const ZERO_USAGE: Usage = Object.freeze({
  input_tokens: 0,
  output_tokens: 0,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  cost_usd: 0,
});

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    cache_creation_input_tokens: a.cache_creation_input_tokens + b.cache_creation_input_tokens,
    cache_read_input_tokens: a.cache_read_input_tokens + b.cache_read_input_tokens,
    cost_usd: a.cost_usd + b.cost_usd,
  };
}

/**
 * What went wrong, in the terms a user acts on: `rate_limit` (wait; `resetsAt` when the CLI said
 * when), `auth` (fix credentials), `overloaded` (transient, the CLI is retrying), `error` (other).
 */
export interface AgentFault {
  kind: "rate_limit" | "auth" | "overloaded" | "error";
  /** True when retrying will not help without a change (bad credentials, a bad request). */
  fatal: boolean;
  message: string;
  /** Unix seconds when a usage limit resets, when the CLI said so. */
  resetsAt?: number;
}

/** A question the agent is waiting on: may it use this tool? */
export interface PermissionRequest {
  requestId: string;
  tool: string;
  input: unknown;
}

export type PermissionDecision = { behavior: "allow" } | { behavior: "deny"; message?: string };

/** What one JSON line from an NDJSON agent means to the session. Every field is optional. */
export interface LineMeaning {
  /** The conversation id this line carries (the latest one wins). */
  sessionId?: string;
  /** This line ends the current turn. */
  endOfTurn?: boolean;
  /** Tokens and cost of the turn this line ends. `cost_usd` is the cumulative total if `costIsTotal`. */
  usage?: Usage;
  costIsTotal?: boolean;
  fault?: AgentFault;
  /** The agent asks to use a tool and waits for an answer. */
  permission?: PermissionRequest;
  /** A protocol line (control request/response) handled by the session, not kept in the transcript. */
  control?: boolean;
}

/**
 * A provider adapter: everything that differs between agent CLIs that speak NDJSON on stdio.
 * `persistent` CLIs keep one process across turns and take each user turn as one stdin line;
 * `per-turn` CLIs run one process per turn, take the prompt on stdin and exit after it.
 */
export interface NdjsonProvider {
  readonly name: string;
  readonly protocol: "ndjson";
  readonly lifecycle: "persistent" | "per-turn";
  /** The executable to run when the app does not name one. */
  readonly command: string;
  /** The flag that resumes a conversation (null: the CLI cannot resume). */
  readonly resumeFlag: string | null;
  /** Argv after the command; `resume` is set when a known conversation should continue. */
  args(resume: string | null): string[];
  /** Variables to set (string) or remove (null) in the child's environment. */
  env: Readonly<Record<string, string | null>>;
  /** The bytes that deliver one user turn on stdin. */
  userInput(text: string): string;
  /** A stdin line that interrupts the current turn; null: interrupt with SIGINT instead. */
  interruptInput(requestId: string): string | null;
  /** The stdin line that answers a permission request; null: this CLI does not ask. */
  permissionAnswer(request: PermissionRequest, decision: PermissionDecision): string | null;
  /**
   * The line types `read` interprets. A line that opens with `{"type":"<another>"` is stored
   * without being parsed (an agent's output is mostly lines that mean nothing to the session);
   * a line that does not open that way is parsed and handed to `read`.
   */
  readonly types: ReadonlySet<string>;
  /** Interprets one parsed JSON line; unknown types and fields mean nothing. */
  read(line: Record<string, unknown>): LineMeaning;
  /** True when stderr says a resumed conversation does not exist. */
  isStaleResume(stderr: string): boolean;
}

/** An agent that speaks the Agent Client Protocol (JSON-RPC over stdio). */
export interface AcpProvider {
  readonly name: string;
  readonly protocol: "acp";
  readonly command: string;
  args(): string[];
  env: Readonly<Record<string, string | null>>;
}

export type Provider = NdjsonProvider | AcpProvider;

// Boundary schemas: loose (unknown fields pass), only the fields we rely on are checked.
const count = () => z.optional(z.number().check(z.nonnegative()));
export const UsageFields = z.looseObject({
  input_tokens: count(),
  output_tokens: count(),
  cache_creation_input_tokens: count(),
  cache_read_input_tokens: count(),
  cached_input_tokens: count(),
});

export function usageFrom(fields: z.infer<typeof UsageFields>, costUsd: number): Usage {
  return {
    input_tokens: fields.input_tokens ?? 0,
    output_tokens: fields.output_tokens ?? 0,
    cache_creation_input_tokens: fields.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: fields.cache_read_input_tokens ?? fields.cached_input_tokens ?? 0,
    cost_usd: costUsd,
  };
}

/**
 * Sorts an error text into a fault kind. Credentials problems are fatal; rate limits, overload
 * and server errors are transient; anything else is a fatal error.
 */
export function classifyErrorText(text: string, status?: number): AgentFault {
  const t = text.toLowerCase();
  const limit = /usage limit reached\|(\d{9,11})/i.exec(text);
  if (limit?.[1]) return { kind: "rate_limit", fatal: false, message: text, resetsAt: Number(limit[1]) };
  if (
    status === 401 ||
    status === 403 ||
    /unauthori[sz]ed|forbidden|token expired|authentication|invalid api key/.test(t)
  )
    return { kind: "auth", fatal: true, message: text };
  // Google's APIs say RESOURCE_EXHAUSTED ("Resource has been exhausted (e.g. check quota).").
  if (
    status === 429 ||
    /rate.?limit|usage limit|too many requests|resource.?(has been )?exhausted|exceeded .*quota/.test(t)
  )
    return { kind: "rate_limit", fatal: false, message: text };
  if ((status !== undefined && status >= 500) || /overloaded|capacity|unavailable|\b5\d\d\b/.test(t))
    return { kind: "overloaded", fatal: false, message: text };
  return { kind: "error", fatal: true, message: text };
}
