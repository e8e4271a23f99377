import type { SessionStatus } from "@agentmux/agent-controller";
import type { JsonValue, Meta } from "@agentmux/common-ipc";
import type { DraftEvent } from "@agentmux/reducer";

// How a session's status reaches the wire (`agent_status`) and the block meta a restart needs.

/** The block meta srv keeps for a running agent, so that a restart can find and resume it. */
export const SESSION_META_KEYS = [
  "session:active_pid",
  "session:pid_start",
  "session:id",
  "session:usage",
  "session:was_interrupted",
] as const;

/** The session meta keys whose value changed since last written (and records them as written). */
export function metaPatch(lastMeta: Record<string, unknown>, status: SessionStatus): Meta | undefined {
  const want: Record<string, unknown> = {
    "session:active_pid": status.pid,
    "session:pid_start": status.pidStartTime,
    "session:id": status.sessionId,
    "session:usage": status.usage,
  };
  if (status.pid !== null) want["session:was_interrupted"] = null;
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(want)) if (JSON.stringify(lastMeta[k]) !== JSON.stringify(v)) patch[k] = v;
  if (Object.keys(patch).length === 0) return undefined;
  Object.assign(lastMeta, patch);
  return patch as Meta;
}

export function statusEvent(blockId: string, s: SessionStatus): DraftEvent {
  return {
    event: "agent_status",
    block_id: blockId,
    status: s.status,
    pid: s.pid,
    exit_code: s.exitCode,
    turn_active: s.turnActive,
    session_id: s.sessionId,
    needs_input: s.needsInput.length > 0,
    usage: s.usage,
    requests: s.needsInput.map((r) => ({ request_id: r.requestId, tool: r.tool, input: toJson(r.input) })),
    fault: s.fault
      ? {
          kind: s.fault.kind,
          fatal: s.fault.fatal,
          message: s.fault.message,
          resets_at: s.fault.resetsAt ?? null,
          stderr: [...(s.fault.stderr ?? [])],
        }
      : null,
  };
}

/** The status of an agent that is not running, with a fault to report. */
export function idleStatus(blockId: string, message: string): DraftEvent {
  return {
    event: "agent_status",
    block_id: blockId,
    status: "done",
    pid: null,
    exit_code: null,
    turn_active: false,
    session_id: null,
    needs_input: false,
    usage: null,
    requests: [],
    fault: { kind: "error", fatal: false, message, resets_at: null, stderr: [] },
  };
}

/** A tool's input as plain JSON (it came from JSON, but the type does not say so). */
function toJson(value: unknown): JsonValue {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
}
