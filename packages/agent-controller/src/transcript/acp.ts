// Agent Client Protocol lines: what an ACP agent writes on stdout, one JSON-RPC message a line —
// answers to the client's requests (initialize, session/new, session/prompt…), `session/update`
// notifications, and its own requests (session/request_permission, fs/*, terminal/*). The
// client's side is not in the transcript, so an answer is read by its shape.
import { summarizeTool } from "./summary.js";
import type { JsonObject, NoticeLevel, TranscriptEvent } from "./types.js";
import {
  arr,
  classifyError,
  contentText,
  countLines,
  nes,
  num,
  oneLine,
  previewText,
  rec,
  str,
  usageOf,
} from "./util.js";

const ACP_USAGE = {
  input: ["inputTokens"],
  output: ["outputTokens"],
  cacheRead: ["cachedReadTokens"],
  cacheWrite: ["cachedWriteTokens"],
};
/** Gemini CLI puts its turn's tokens in the answer's `_meta.quota.token_count` instead. */
const GEMINI_QUOTA = { input: ["input_tokens"], output: ["output_tokens"], cacheRead: [], cacheWrite: [] };

/** ACP lines to events; null when the line is not a JSON-RPC message this model knows. */
export function acpEvents(line: JsonObject): TranscriptEvent[] | null {
  const method = nes(line.method);
  const hasId = typeof line.id === "string" || typeof line.id === "number";
  if (method !== undefined) return hasId ? requestEvents(method, line) : notificationEvents(method, line);
  if (hasId && "error" in line) return [rpcError(line.error)];
  if (hasId && "result" in line) return responseEvents(line.result);
  return null;
}

function rpcError(v: unknown): TranscriptEvent {
  const error = rec(v);
  const data = rec(error?.data);
  const detail = nes(data?.message) ?? nes(data?.details) ?? nes(error?.data);
  const base = nes(error?.message) ?? "JSON-RPC error";
  const message = oneLine(detail && detail !== base ? `${base}: ${detail}` : base, 1000);
  const code = typeof error?.code === "number" && Number.isFinite(error.code) ? error.code : undefined;
  return { type: "error", ...classifyError(message), message, ...(code !== undefined ? { code } : {}) };
}

function responseEvents(v: unknown): TranscriptEvent[] {
  const result = rec(v);
  if (!result) return [{ type: "notice", level: "debug", subtype: "response", message: "response" }];
  const stopReason = nes(result.stopReason);
  if (stopReason !== undefined) {
    const usage =
      usageOf(result.usage, ACP_USAGE) ?? usageOf(rec(rec(rec(result._meta)?.quota)?.token_count), GEMINI_QUOTA);
    const ok = stopReason === "end_turn";
    const message = stopReason === "refusal" ? "the agent refused the prompt" : undefined;
    return [{ type: "turn_end", ok, reason: stopReason, ...(message ? { message } : {}), ...(usage ? { usage } : {}) }];
  }
  if (typeof result.protocolVersion === "number") {
    const info = rec(result.agentInfo);
    const name = nes(info?.title) ?? nes(info?.name);
    const version = nes(info?.version);
    const agent = name ? ` ${name}${version ? ` ${version}` : ""}` : "";
    return [
      {
        type: "notice",
        level: "debug",
        subtype: "initialize",
        message: `ACP v${result.protocolVersion} agent${agent}`,
      },
    ];
  }
  const sessionId = nes(result.sessionId);
  if (sessionId !== undefined) {
    const modes = rec(result.modes);
    const mode = nes(modes?.currentModeId);
    return [
      {
        type: "notice",
        level: "info",
        subtype: "init",
        message: `session ${sessionId}${mode ? ` · mode ${mode}` : ""}`,
        sessionId,
      },
    ];
  }
  return [{ type: "notice", level: "debug", subtype: "response", message: "response" }];
}

function requestEvents(method: string, line: JsonObject): TranscriptEvent[] | null {
  const params = rec(line.params);
  if (method === "session/request_permission") {
    const toolCall = rec(params?.toolCall);
    const toolCallId = nes(toolCall?.toolCallId);
    const options = arr(params?.options)
      .map((o) => rec(o))
      .filter((o): o is JsonObject => o !== undefined)
      .map((o) => ({ id: str(o.optionId) ?? "", name: str(o.name) ?? "", kind: str(o.kind) ?? "" }));
    // The session names the request the same way (title, else kind, else the call id).
    const tool = nes(toolCall?.title) ?? nes(toolCall?.kind) ?? toolCallId ?? "tool";
    const input = toolCall?.rawInput ?? null;
    return [
      {
        type: "permission_request",
        requestId: String(line.id),
        tool,
        input,
        summary: summarizeTool(tool, input),
        ...(toolCallId ? { toolCallId } : {}),
        ...(options.length > 0 ? { options } : {}),
      },
    ];
  }
  if (method.startsWith("fs/") || method.startsWith("terminal/")) {
    const path = nes(params?.path) ?? nes(params?.command) ?? nes(params?.terminalId);
    return [
      { type: "notice", level: "debug", subtype: "client_request", message: `${method}${path ? ` ${path}` : ""}` },
    ];
  }
  return null;
}

function notificationEvents(method: string, line: JsonObject): TranscriptEvent[] | null {
  if (method !== "session/update") return null;
  const update = rec(rec(line.params)?.update);
  if (!update) return null;
  const kind = nes(update.sessionUpdate);
  switch (kind) {
    case "agent_message_chunk":
    case "agent_thought_chunk":
    case "user_message_chunk": {
      const text = contentText(update.content);
      if (text === "") return [];
      const type = kind === "agent_message_chunk" ? "text" : kind === "agent_thought_chunk" ? "thinking" : "user";
      return [{ type, text, delta: true }];
    }
    case "tool_call": {
      const id = nes(update.toolCallId) ?? "";
      const title = nes(update.title);
      // ACP titles are written for people ("Read NOTES.md", "`npm test`"): the summary. The name is
      // the tool's own name when the agent gives one, else its kind (`read`, `execute`, …).
      const name = nes(update.name) ?? metaToolName(update._meta) ?? nes(update.kind) ?? title ?? "tool";
      const input = update.rawInput ?? null;
      const summary = title !== undefined ? oneLine(title) : summarizeTool(name, input);
      const events: TranscriptEvent[] = [{ type: "tool_call", id, name, input, summary }];
      const done = toolDone(id, update);
      if (done) events.push(done);
      return events;
    }
    case "tool_call_update": {
      const id = nes(update.toolCallId) ?? "";
      const done = toolDone(id, update);
      if (done) return [done];
      const status = nes(update.status);
      const title = nes(update.title);
      const parts = [`tool ${id}`, status, title ? oneLine(title, 120) : undefined];
      return [
        {
          type: "notice",
          level: "debug",
          subtype: "tool_update",
          message: parts.filter((p) => p !== undefined).join(" "),
        },
      ];
    }
    case "plan": {
      const entries = arr(update.entries)
        .map((e) => rec(e))
        .filter((e): e is JsonObject => e !== undefined)
        .map((e) => `${planMark(e.status)} ${oneLine(str(e.content) ?? "", 120)}`);
      return [{ type: "notice", level: "info", subtype: "plan", message: `plan: ${entries.join(", ")}` }];
    }
    case "current_mode_update": {
      const mode = nes(update.currentModeId) ?? "?";
      return [{ type: "notice", level: "info", subtype: "mode", message: `mode: ${mode}` }];
    }
    case "session_info_update": {
      const title = nes(update.title);
      return [
        {
          type: "notice",
          level: title ? "info" : "debug",
          subtype: "session_info",
          message: title ? `title: ${oneLine(title, 200)}` : "session info updated",
        },
      ];
    }
    case "usage_update": {
      const used = num(update.used);
      const size = num(update.size);
      const cost = rec(update.cost);
      const amount = num(cost?.amount);
      const currency = nes(cost?.currency) ?? "";
      const parts = [
        used !== undefined ? `context ${used}${size ? `/${size}` : ""} tokens` : undefined,
        amount !== undefined ? `cost ${amount} ${currency}`.trim() : undefined,
      ];
      return [
        {
          type: "notice",
          level: "debug",
          subtype: "usage",
          message: parts.filter((p) => p !== undefined).join(", ") || "usage",
        },
      ];
    }
    case "notice": {
      const title = nes(update.title) ?? "notice";
      const description = nes(update.description);
      const message = oneLine(description ? `${title}: ${description}` : title, 1000);
      if (update.severity === "error") return [{ type: "error", ...classifyError(message), fatal: false, message }];
      const level: NoticeLevel = update.severity === "warning" ? "warning" : "info";
      return [{ type: "notice", level, subtype: "notice", message }];
    }
    case "compaction_update": {
      const status = nes(update.status) ?? "updated";
      const error = nes(update.error);
      return [
        {
          type: "notice",
          level: error ? "warning" : "info",
          subtype: "compaction",
          message: `compaction ${status}${error ? `: ${oneLine(error, 300)}` : ""}`,
        },
      ];
    }
    case "compaction_summary_chunk":
    case "available_commands_update":
    case "config_option_update":
      return [{ type: "notice", level: "debug", subtype: kind, message: kind.replaceAll("_", " ") }];
    default:
      return null;
  }
}

/** A vendor's tool name in `_meta` (`{"_meta":{"<vendor>":{"toolName":"Bash"}}}`), if any. */
function metaToolName(meta: unknown): string | undefined {
  const m = rec(meta);
  if (!m) return undefined;
  for (const v of Object.values(m)) {
    const name = nes(rec(v)?.toolName);
    if (name !== undefined) return name.slice(0, 100);
  }
  return undefined;
}

function planMark(status: unknown): string {
  return status === "completed" ? "[x]" : status === "in_progress" ? "[~]" : "[ ]";
}

/** The result event of a tool call update that reached completed or failed; null before that. */
function toolDone(id: string, update: JsonObject): TranscriptEvent | null {
  if (update.status !== "completed" && update.status !== "failed") return null;
  const content = arr(update.content);
  let text = content.length > 0 ? contentText(content) : "";
  if (text === "" && update.rawOutput !== undefined && update.rawOutput !== null) text = contentText(update.rawOutput);
  return {
    type: "tool_result",
    id,
    ok: update.status === "completed",
    preview: previewText(text),
    lines: countLines(text),
  };
}
