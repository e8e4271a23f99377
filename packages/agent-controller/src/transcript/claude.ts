// Claude Code stream-json lines (`claude -p --output-format stream-json --verbose`).
import { summarizeTool } from "./summary.js";
import type { JsonObject, TranscriptEvent } from "./types.js";
import {
  arr,
  classifyError,
  contentText,
  countLines,
  initNotice,
  nes,
  num,
  oneLine,
  previewText,
  rec,
  str,
  usageOf,
} from "./util.js";

const CLAUDE_USAGE = {
  input: ["input_tokens"],
  output: ["output_tokens"],
  cacheRead: ["cache_read_input_tokens"],
  cacheWrite: ["cache_creation_input_tokens"],
};

/** Claude lines to events; null when the line's type is not one claude writes. */
export function claudeEvents(line: JsonObject): TranscriptEvent[] | null {
  const parent = nes(line.parent_tool_use_id);
  const withParent = (events: TranscriptEvent[]) => (parent ? events.map((e) => ({ ...e, parent })) : events);
  switch (line.type) {
    case "system":
      return systemEvents(line);
    case "assistant":
      return withParent(assistantEvents(line));
    case "user":
      return withParent(userEvents(line));
    case "stream_event":
      return withParent(streamEvents(line));
    case "result":
      return [resultEvent(line)];
    case "rate_limit_event":
      return [rateLimitEvent(line)];
    case "control_request":
      return controlRequest(line);
    case "control_response":
    case "control_cancel_request":
      return [{ type: "notice", level: "debug", subtype: line.type, message: line.type.replace("_", " ") }];
    default:
      return null;
  }
}

function systemEvents(line: JsonObject): TranscriptEvent[] {
  const subtype = nes(line.subtype) ?? "system";
  switch (subtype) {
    case "init": {
      const version = nes(line.claude_code_version);
      const fields = { sessionId: nes(line.session_id), model: nes(line.model), cwd: nes(line.cwd) };
      return [initNotice(fields, version ? `claude ${version}` : undefined)];
    }
    case "api_retry": {
      const status = num(line.error_status);
      const attempt = num(line.attempt);
      const max = num(line.max_retries);
      const delay = num(line.retry_delay_ms);
      const why = [nes(line.error), status !== undefined ? String(status) : undefined].filter(Boolean).join(" ");
      const retry = attempt !== undefined ? ` ${attempt}${max !== undefined ? `/${max}` : ""}` : "";
      const wait = delay !== undefined ? ` in ${(delay / 1000).toFixed(1)}s` : "";
      return [
        {
          type: "notice",
          level: "warning",
          subtype: "api_retry",
          message: `API call failed${why ? ` (${why})` : ""}; retry${retry}${wait}`,
        },
      ];
    }
    case "compact_boundary":
      return [{ type: "notice", level: "info", subtype: "compaction", message: "context compacted" }];
    case "status": {
      const status = nes(line.status);
      return [{ type: "notice", level: "debug", subtype: "status", message: `status: ${status ?? "?"}` }];
    }
    default: {
      const text = nes(line.message) ?? nes(line.content) ?? nes(line.status);
      return [
        {
          type: "notice",
          level: "debug",
          subtype,
          message: text ? `${subtype}: ${oneLine(text, 300)}` : subtype.replaceAll("_", " "),
        },
      ];
    }
  }
}

function assistantEvents(line: JsonObject): TranscriptEvent[] {
  const message = rec(line.message);
  const blocks = message?.content;
  // A failed API call comes back as a synthetic assistant message carrying the error text.
  if (line.is_api_error_message === true || (nes(line.error) && message?.model === "<synthetic>")) {
    const text = oneLine(contentText(blocks), 1000) || nes(line.error) || "API error";
    const status = num(line.api_error_status);
    return [
      {
        type: "error",
        ...classifyError(text, status),
        message: text,
        ...(status !== undefined ? { code: status } : {}),
      },
    ];
  }
  if (typeof blocks === "string") return [{ type: "text", text: blocks, delta: false }];
  const events: TranscriptEvent[] = [];
  for (const b of arr(blocks)) {
    const block = rec(b);
    if (!block) continue;
    switch (block.type) {
      case "text": {
        const text = str(block.text);
        if (text !== undefined) events.push({ type: "text", text, delta: false });
        break;
      }
      case "thinking": {
        const text = str(block.thinking) ?? str(block.text);
        if (text !== undefined && text !== "") events.push({ type: "thinking", text, delta: false });
        break;
      }
      case "redacted_thinking":
        events.push({ type: "thinking", text: "[redacted]", delta: false });
        break;
      case "tool_use":
      case "server_tool_use":
      case "mcp_tool_use": {
        const name = nes(block.name) ?? "tool";
        events.push({
          type: "tool_call",
          id: nes(block.id) ?? "",
          name,
          input: block.input ?? null,
          summary: summarizeTool(name, block.input),
        });
        break;
      }
      default:
        if (typeof block.type === "string" && block.type.endsWith("_tool_result")) events.push(toolResult(block));
    }
  }
  return events;
}

function toolResult(block: JsonObject): TranscriptEvent {
  const text = contentText(block.content);
  return {
    type: "tool_result",
    id: nes(block.tool_use_id) ?? "",
    ok: block.is_error !== true,
    preview: previewText(text),
    lines: countLines(text),
  };
}

function userEvents(line: JsonObject): TranscriptEvent[] {
  const content = rec(line.message)?.content;
  if (typeof content === "string") return content === "" ? [] : [{ type: "user", text: content, delta: false }];
  const events: TranscriptEvent[] = [];
  for (const b of arr(content)) {
    const block = rec(b);
    if (!block) continue;
    if (block.type === "tool_result") events.push(toolResult(block));
    else if (block.type === "text") {
      const text = str(block.text);
      if (text) events.push({ type: "user", text, delta: false });
    }
  }
  return events;
}

function streamEvents(line: JsonObject): TranscriptEvent[] {
  const event = rec(line.event);
  if (event?.type !== "content_block_delta") return []; // starts, stops, usage: the whole message follows
  const delta = rec(event.delta);
  if (delta?.type === "text_delta") {
    const text = str(delta.text);
    return text ? [{ type: "text", text, delta: true, preview: true }] : [];
  }
  if (delta?.type === "thinking_delta") {
    const text = str(delta.thinking);
    return text ? [{ type: "thinking", text, delta: true, preview: true }] : [];
  }
  return [];
}

function resultEvent(line: JsonObject): TranscriptEvent {
  const subtype = nes(line.subtype) ?? "result";
  const isError = line.is_error === true || (subtype !== "success" && subtype !== "result");
  const terminal = nes(line.terminal_reason);
  const usage = usageOf(line.usage, CLAUDE_USAGE);
  const cost = num(line.total_cost_usd);
  const duration = num(line.duration_ms);
  let message: string | undefined;
  if (isError) {
    // `errors` holds the CLI's own diagnostics; the result text or the terminal reason say it better.
    const errors = arr(line.errors).filter((e): e is string => typeof e === "string" && !e.startsWith("["));
    message =
      nes(line.result) ??
      (terminal?.startsWith("aborted") ? "interrupted" : undefined) ??
      (errors.length > 0 ? errors.join("; ") : undefined) ??
      (terminal && terminal !== "completed" ? terminal.replaceAll("_", " ") : undefined);
    if (message !== undefined) message = oneLine(message, 1000);
  }
  // A failed API call ends with subtype `success` and `is_error`: the terminal reason says more.
  const reason = isError && subtype === "success" ? (terminal ?? "error") : subtype;
  return {
    type: "turn_end",
    ok: !isError,
    reason,
    ...(message !== undefined ? { message } : {}),
    ...(usage ? { usage } : {}),
    ...(cost !== undefined ? { cost: { usd: cost, cumulative: true } } : {}),
    ...(duration !== undefined ? { durationMs: duration } : {}),
  };
}

function rateLimitEvent(line: JsonObject): TranscriptEvent {
  const info = rec(line.rate_limit_info);
  const status = nes(info?.status) ?? "unknown";
  const window = nes(info?.rateLimitType);
  const resetsAt = num(info?.resetsAt);
  const what = `rate limit${window ? ` (${window.replaceAll("_", " ")})` : ""}`;
  if (status === "rejected")
    return {
      type: "error",
      kind: "rate_limit",
      fatal: false,
      message: `${what} reached`,
      ...(resetsAt !== undefined ? { resetsAt } : {}),
    };
  return {
    type: "notice",
    level: status === "allowed" ? "debug" : "warning",
    subtype: "rate_limit",
    message: `${what}: ${status.replaceAll("_", " ")}`,
  };
}

function controlRequest(line: JsonObject): TranscriptEvent[] {
  const request = rec(line.request);
  if (request?.subtype === "can_use_tool") {
    const tool = nes(request.tool_name) ?? "tool";
    const toolCallId = nes(request.tool_use_id);
    return [
      {
        type: "permission_request",
        requestId: nes(line.request_id) ?? "",
        tool,
        input: request.input ?? null,
        summary: summarizeTool(tool, request.input),
        ...(toolCallId ? { toolCallId } : {}),
      },
    ];
  }
  const subtype = nes(request?.subtype) ?? "request";
  return [{ type: "notice", level: "debug", subtype: "control_request", message: `control request: ${subtype}` }];
}
