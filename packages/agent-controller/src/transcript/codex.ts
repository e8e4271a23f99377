// Codex `exec --json` lines: thread/turn events and items (`item.started|updated|completed`).
import { summarizeTool } from "./summary.js";
import type { JsonObject, TranscriptEvent } from "./types.js";
import { arr, classifyError, contentText, countLines, nes, oneLine, previewText, rec, str, usageOf } from "./util.js";

const CODEX_USAGE = {
  input: ["input_tokens"],
  output: ["output_tokens"],
  cacheRead: ["cached_input_tokens"],
  cacheWrite: [],
};

/** Codex lines to events; null when the line's type is not one codex writes. */
export function codexEvents(line: JsonObject): TranscriptEvent[] | null {
  switch (line.type) {
    case "thread.started": {
      const sessionId = nes(line.thread_id);
      return [
        {
          type: "notice",
          level: "info",
          subtype: "init",
          message: sessionId ? `thread ${sessionId}` : "thread started",
          ...(sessionId ? { sessionId } : {}),
        },
      ];
    }
    case "turn.started":
      return [{ type: "notice", level: "debug", subtype: "turn_start", message: "turn started" }];
    case "turn.completed": {
      const usage = usageOf(line.usage, CODEX_USAGE);
      return [{ type: "turn_end", ok: true, reason: "completed", ...(usage ? { usage } : {}) }];
    }
    case "turn.failed": {
      const message = errorMessage(line.error) ?? "turn failed";
      return [{ type: "turn_end", ok: false, reason: "failed", message }];
    }
    case "error": {
      const message = errorMessage(line) ?? "error";
      // The stream dropped and codex tries again ("Reconnecting... 2/5 (…)"): not a failure yet.
      if (/^reconnecting\b/i.test(message))
        return [{ type: "notice", level: "warning", subtype: "api_retry", message }];
      return [{ type: "error", ...classifyError(message), message }];
    }
    case "item.started":
    case "item.updated":
    case "item.completed": {
      const item = rec(line.item);
      if (!item) return null;
      return itemEvents(line.type.slice(5) as "started" | "updated" | "completed", item);
    }
    case "item.plan.delta": {
      const text = str(line.delta);
      return text ? [{ type: "text", text, delta: true, preview: true }] : [];
    }
    case "request_user_input": {
      const questions = arr(line.questions)
        .map((q) => nes(rec(q)?.question) ?? nes(rec(q)?.header))
        .filter((q): q is string => q !== undefined);
      return [
        {
          type: "notice",
          level: "warning",
          subtype: "user_input",
          message: `the agent asks: ${oneLine(questions.join(" / ") || "(no question text)", 300)}`,
        },
      ];
    }
    default:
      return null;
  }
}

function errorMessage(v: unknown): string | undefined {
  const r = rec(v);
  const m = nes(r?.message);
  return m === undefined ? nes(v) : oneLine(m, 1000);
}

type Phase = "started" | "updated" | "completed";

function itemEvents(phase: Phase, item: JsonObject): TranscriptEvent[] | null {
  const id = nes(item.id) ?? "";
  switch (item.type) {
    case "agent_message":
    case "plan": {
      const text = str(item.text);
      return phase === "completed" && text !== undefined ? [{ type: "text", text, delta: false }] : [];
    }
    case "reasoning": {
      const text = str(item.text);
      return phase === "completed" && text ? [{ type: "thinking", text, delta: false }] : [];
    }
    case "command_execution": {
      const command = str(item.command) ?? "";
      if (phase === "started") return [call(id, "shell", { command }, command)];
      if (phase === "updated") return [];
      const output = str(item.aggregated_output) ?? "";
      const exit = typeof item.exit_code === "number" ? item.exit_code : null;
      const ok = item.status === "completed" && (exit === null || exit === 0);
      const note = item.status === "declined" ? "declined" : exit !== null && exit !== 0 ? `exit code ${exit}` : "";
      return [result(id, ok, output, note)];
    }
    case "file_change": {
      // Emitted once, completed: the call and its outcome in one item.
      if (phase !== "completed") return [];
      const changes = arr(item.changes)
        .map((c) => rec(c))
        .filter((c): c is JsonObject => c !== undefined)
        .map((c) => `${nes(c.kind) ?? "update"} ${nes(c.path) ?? "?"}`);
      const summary = changes.join(", ");
      const ok = item.status !== "failed";
      return [
        call(id, "apply_patch", { changes: item.changes ?? [] }, summary),
        result(id, ok, changes.join("\n"), ""),
      ];
    }
    case "mcp_tool_call": {
      const name = `${nes(item.server) ?? "mcp"}.${nes(item.tool) ?? "tool"}`;
      if (phase === "started") return [call(id, name, item.arguments ?? null)];
      if (phase === "updated") return [];
      const error = errorMessage(item.error);
      const ok = item.status !== "failed" && error === undefined;
      const res = rec(item.result);
      const text = error ?? contentText(res?.content ?? res?.structured_content ?? "");
      return [result(id, ok, text, "")];
    }
    case "collab_tool_call": {
      const name = nes(item.tool) ?? "collab";
      if (phase === "started") return [call(id, name, { prompt: item.prompt ?? null })];
      if (phase === "updated") return [];
      return [result(id, item.status !== "failed", "", "")];
    }
    case "web_search": {
      const query = str(item.query) ?? "";
      if (phase === "started") return [call(id, "web_search", { query }, query)];
      if (phase === "updated") return [];
      return [result(id, true, "", "")];
    }
    case "todo_list": {
      const items = arr(item.items)
        .map((t) => rec(t))
        .filter((t): t is JsonObject => t !== undefined)
        .map((t) => `[${t.completed === true ? "x" : " "}] ${oneLine(str(t.text) ?? "", 120)}`);
      if (phase === "completed" && items.length === 0) return [];
      return [{ type: "notice", level: "info", subtype: "plan", message: `plan: ${items.join(", ")}` }];
    }
    case "error": {
      const message = errorMessage(item) ?? "error";
      return [{ type: "notice", level: "warning", subtype: "error_item", message }];
    }
    default:
      return null;
  }
}

function call(id: string, name: string, input: unknown, summary?: string): TranscriptEvent {
  return {
    type: "tool_call",
    id,
    name,
    input,
    summary: summary !== undefined ? oneLine(summary) : summarizeTool(name, input),
  };
}

function result(id: string, ok: boolean, output: string, note: string): TranscriptEvent {
  const text = note ? `${note}\n${output}` : output;
  return { type: "tool_result", id, ok, preview: previewText(text), lines: countLines(output) };
}
