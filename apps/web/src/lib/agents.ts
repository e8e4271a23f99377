// What an agent's status means to a person: one word, an attention rank, and its numbers.
import type { AgentUsage, EventOf } from "@agentmux/common-ipc";

export type AgentStatusData = Omit<EventOf<"agent_status">, "event" | "version" | "req_id">;
export type Meta = Record<string, unknown>;

export type StatusWord =
  | "needs input"
  | "failed"
  | "rate-limited"
  | "working"
  | "idle"
  | "starting"
  | "interrupted"
  | "stopped"
  | "new";

/** Sort order of the fleet: what needs a person first. */
const RANK: Readonly<Record<StatusWord, number>> = {
  "needs input": 0,
  failed: 1,
  "rate-limited": 2,
  working: 3,
  idle: 4,
  starting: 5,
  interrupted: 5,
  stopped: 6,
  new: 6,
};

export function needsInput(s: AgentStatusData | null | undefined): boolean {
  return s != null && (s.needs_input || s.requests.length > 0);
}

export function statusWord(s: AgentStatusData | null | undefined, meta: Meta): StatusWord {
  // srv has not run it since it started (the words `agentmux agent ls` uses): interrupted by a
  // crash mid-session, stopped if it had a session, else new and waiting for a first message.
  if (s == null) {
    if (meta["session:was_interrupted"] === true) return "interrupted";
    return typeof meta["session:id"] === "string" ? "stopped" : "new";
  }
  if (needsInput(s)) return "needs input";
  if (s.fault?.kind === "rate_limit") return "rate-limited";
  if (s.fault != null || (s.status === "done" && s.exit_code !== null && s.exit_code !== 0)) return "failed";
  if (s.turn_active) return "working";
  if (s.status === "init") return "starting";
  if (s.status === "running") return "idle";
  return "stopped";
}

export function statusRank(word: StatusWord): number {
  return RANK[word];
}

/** The CSS class of a status word (`status-needs-input`). */
export function statusClass(word: StatusWord): string {
  return `status status-${word.replace(/\s+/g, "-")}`;
}

export function metaString(meta: Meta, key: string): string | null {
  const v = meta[key];
  return typeof v === "string" && v !== "" ? v : null;
}

/** The session totals: the live status's, else what srv last wrote into the meta. */
export function usageOf(s: AgentStatusData | null | undefined, meta: Meta): AgentUsage | null {
  if (s?.usage) return s.usage;
  const u = meta["session:usage"];
  if (typeof u !== "object" || u === null) return null;
  const r = u as Record<string, unknown>;
  const n = (k: string) => (typeof r[k] === "number" ? (r[k] as number) : 0);
  return {
    input_tokens: n("input_tokens"),
    output_tokens: n("output_tokens"),
    cache_creation_input_tokens: n("cache_creation_input_tokens"),
    cache_read_input_tokens: n("cache_read_input_tokens"),
    cost_usd: n("cost_usd"),
  };
}

export function sessionOf(s: AgentStatusData | null | undefined, meta: Meta): string | null {
  return s?.session_id ?? metaString(meta, "session:id");
}
