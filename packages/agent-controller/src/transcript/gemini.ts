// Gemini CLI headless stream-json lines (`gemini --output-format stream-json`).
import { summarizeTool } from "./summary.js";
import type { JsonObject, TranscriptEvent } from "./types.js";
import {
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

const GEMINI_USAGE = {
  // `input_tokens` counts cached tokens too; `cached` is that share.
  input: ["input_tokens", "prompt_tokens"],
  output: ["output_tokens", "candidates_tokens"],
  cacheRead: ["cached", "cached_tokens"],
  cacheWrite: [],
};

/** Gemini lines to events; null when the line's type is not one gemini writes. */
export function geminiEvents(line: JsonObject): TranscriptEvent[] | null {
  switch (line.type) {
    case "init": {
      return [initNotice({ sessionId: nes(line.session_id), model: nes(line.model) })];
    }
    case "message": {
      const text = contentText(line.content);
      const delta = line.delta === true;
      if (text === "") return [];
      return [line.role === "user" ? { type: "user", text, delta } : { type: "text", text, delta }];
    }
    case "tool_use": {
      const name = nes(line.tool_name) ?? "tool";
      const input = line.parameters ?? null;
      return [{ type: "tool_call", id: nes(line.tool_id) ?? "", name, input, summary: summarizeTool(name, input) }];
    }
    case "tool_result": {
      const ok = line.status === "success";
      const error = rec(line.error);
      const output = str(line.output) ?? contentText(line.output);
      const text = ok ? output : (nes(error?.message) ?? output);
      return [
        { type: "tool_result", id: nes(line.tool_id) ?? "", ok, preview: previewText(text), lines: countLines(text) },
      ];
    }
    case "error": {
      const message = oneLine(nes(line.message) ?? "error", 1000);
      if (line.severity === "warning") return [{ type: "notice", level: "warning", subtype: "warning", message }];
      // The stream goes on after an `error` line: it is not fatal to the session by itself.
      return [{ type: "error", ...classifyError(message), message }];
    }
    case "result": {
      const status = nes(line.status) ?? "result";
      const ok = status === "success";
      const error = rec(line.error);
      const stats = rec(line.stats);
      const usage = usageOf(stats, GEMINI_USAGE);
      const duration = num(stats?.duration_ms);
      const message = ok ? undefined : oneLine(nes(error?.message) ?? `turn ended: ${status}`, 1000);
      return [
        {
          type: "turn_end",
          ok,
          reason: status,
          ...(message !== undefined ? { message } : {}),
          ...(usage ? { usage } : {}),
          ...(duration !== undefined ? { durationMs: duration } : {}),
        },
      ];
    }
    default:
      return null;
  }
}
