import * as z from "zod/mini";
import {
  classifyErrorText,
  type LineMeaning,
  type NdjsonProvider,
  type PermissionDecision,
  type PermissionRequest,
  UsageFields,
  usageFrom,
} from "./types.js";

export interface ClaudeOptions {
  /**
   * `ask` (default): tool permissions come to the session as `needs_input` requests
   * (`--permission-prompt-tool stdio`). `skip`: the CLI runs every tool without asking.
   */
  permissions?: "ask" | "skip";
  /** Stream partial assistant messages (`stream_event` lines). Default false. */
  partialMessages?: boolean;
  /** More arguments, appended as given (`--model`, `--mcp-config f.json`, …). */
  extraArgs?: readonly string[];
}

const ResultLine = z.looseObject({
  type: z.literal("result"),
  subtype: z.optional(z.string()),
  is_error: z.optional(z.boolean()),
  result: z.optional(z.unknown()),
  total_cost_usd: z.optional(z.number().check(z.nonnegative())),
  usage: z.optional(UsageFields),
});
const RetryLine = z.looseObject({
  type: z.literal("system"),
  subtype: z.literal("api_retry"),
  error_status: z.optional(z.number()),
  error: z.optional(z.string()),
});
const CanUseTool = z.looseObject({
  type: z.literal("control_request"),
  request_id: z.string().check(z.minLength(1)),
  request: z.looseObject({ subtype: z.literal("can_use_tool"), tool_name: z.string(), input: z.unknown() }),
});

/** Claude Code in stream-json mode: one process for the whole conversation. */
export function claude(options: ClaudeOptions = {}): NdjsonProvider {
  const permissionArgs =
    options.permissions === "skip" ? ["--dangerously-skip-permissions"] : ["--permission-prompt-tool", "stdio"];
  return {
    name: "claude",
    protocol: "ndjson",
    lifecycle: "persistent",
    command: "claude",
    resumeFlag: "--resume",
    args(resume) {
      return [
        "-p",
        "--input-format",
        "stream-json",
        "--output-format",
        "stream-json",
        "--verbose",
        ...(options.partialMessages ? ["--include-partial-messages"] : []),
        ...permissionArgs,
        ...(options.extraArgs ?? []),
        ...(resume ? ["--resume", resume] : []),
      ];
    },
    // A nested Claude Code refuses to start when it thinks it runs inside another one.
    env: { CLAUDECODE: null },
    userInput(text) {
      return `${JSON.stringify({ type: "user", message: { role: "user", content: text } })}\n`;
    },
    interruptInput(requestId) {
      return `${JSON.stringify({ type: "control_request", request_id: requestId, request: { subtype: "interrupt" } })}\n`;
    },
    permissionAnswer(request: PermissionRequest, decision: PermissionDecision) {
      const response =
        decision.behavior === "allow"
          ? { behavior: "allow", updatedInput: request.input ?? {} }
          : { behavior: "deny", message: decision.message ?? "denied by the user" };
      return `${JSON.stringify({
        type: "control_response",
        response: { subtype: "success", request_id: request.requestId, response },
      })}\n`;
    },
    types: new Set([
      "control_request",
      "control_response",
      "control_cancel_request",
      "result",
      "system",
      "rate_limit_event",
    ]),
    read(line) {
      const meaning: LineMeaning = {};
      // Every line carries the session id (init and result lines included): a plain check here,
      // full schemas only for rare types.
      const sid = line.session_id;
      if (typeof sid === "string" && sid.length > 0 && sid.length <= 200) meaning.sessionId = sid;
      switch (line.type) {
        case "control_request": {
          meaning.control = true;
          const ask = CanUseTool.safeParse(line);
          if (ask.success)
            meaning.permission = {
              requestId: ask.data.request_id,
              tool: ask.data.request.tool_name,
              input: ask.data.request.input,
            };
          return meaning;
        }
        case "control_response":
        case "control_cancel_request":
          meaning.control = true;
          return meaning;
        case "result": {
          const r = ResultLine.safeParse(line);
          meaning.endOfTurn = true;
          if (!r.success) return meaning;
          meaning.usage = usageFrom(r.data.usage ?? {}, r.data.total_cost_usd ?? 0);
          meaning.costIsTotal = true;
          if (r.data.is_error) {
            const text =
              typeof r.data.result === "string" && r.data.result !== ""
                ? r.data.result
                : `turn failed (${r.data.subtype ?? "error"})`;
            meaning.fault = classifyErrorText(text);
          }
          return meaning;
        }
        case "system": {
          // The CLI retries failed API calls for minutes; the first retry already says why.
          const retry = RetryLine.safeParse(line);
          if (retry.success)
            meaning.fault = classifyErrorText(
              `API call failed (${retry.data.error ?? "error"}${retry.data.error_status ? ` ${retry.data.error_status}` : ""}), retrying`,
              retry.data.error_status,
            );
          return meaning;
        }
        case "rate_limit_event":
          meaning.fault = { kind: "rate_limit", fatal: false, message: "rate limited" };
          return meaning;
        default:
          return meaning;
      }
    },
    isStaleResume(stderr) {
      return stderr.includes("No conversation found");
    },
  };
}
