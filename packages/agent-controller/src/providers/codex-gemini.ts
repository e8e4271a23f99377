import { z } from "zod";
import { classifyErrorText, type LineMeaning, type NdjsonProvider, UsageFields, usageFrom } from "./types.js";

export interface PerTurnOptions {
  /** More arguments, placed before the prompt marker. */
  extraArgs?: readonly string[];
}

const ThreadStarted = z.looseObject({ type: z.literal("thread.started"), thread_id: z.string().min(1).max(200) });
const TurnCompleted = z.looseObject({ type: z.literal("turn.completed"), usage: UsageFields.optional() });
const TurnFailed = z.looseObject({
  type: z.literal("turn.failed"),
  error: z.looseObject({ message: z.string().optional() }).optional(),
});
const CodexError = z.looseObject({ type: z.literal("error"), message: z.string().optional() });

/**
 * Codex `exec --json`: one process per turn. The prompt goes on stdin (`-`), the thread id from
 * `thread.started` names the conversation and `exec resume <id>` continues it. Chosen over
 * `app-server` because it needs no handshake and its JSONL is documented as stable.
 */
export function codex(options: PerTurnOptions = {}): NdjsonProvider {
  return {
    name: "codex",
    protocol: "ndjson",
    lifecycle: "per-turn",
    command: "codex",
    resumeFlag: "resume",
    args(resume) {
      return [
        "exec",
        "--json",
        "--dangerously-bypass-approvals-and-sandbox",
        ...(options.extraArgs ?? []),
        ...(resume ? ["resume", resume] : []),
        "-",
      ];
    },
    env: {},
    userInput: (text) => text,
    interruptInput: () => null,
    permissionAnswer: () => null,
    read(line) {
      const meaning: LineMeaning = {};
      const thread = ThreadStarted.safeParse(line);
      if (thread.success) meaning.sessionId = thread.data.thread_id;
      const done = TurnCompleted.safeParse(line);
      if (done.success) {
        meaning.endOfTurn = true;
        meaning.usage = usageFrom(done.data.usage ?? {}, 0);
      }
      const failed = TurnFailed.safeParse(line);
      if (failed.success) {
        meaning.endOfTurn = true;
        meaning.fault = classifyErrorText(failed.data.error?.message ?? "turn failed");
      }
      const error = CodexError.safeParse(line);
      if (error.success) meaning.fault = classifyErrorText(error.data.message ?? "error");
      return meaning;
    },
    isStaleResume: (stderr) => /no (rollout|session|thread) found|not found for (thread|session)/i.test(stderr),
  };
}

const GeminiInit = z.looseObject({ type: z.literal("init"), session_id: z.string().min(1).max(200) });
const GeminiResult = z.looseObject({
  type: z.literal("result"),
  status: z.string().optional(),
  error: z.looseObject({ message: z.string().optional() }).optional(),
});

/**
 * Gemini CLI headless stream-json: one process per turn; the prompt goes on stdin (appended to
 * `-p ""`), `init` carries the session id and `--resume <id>` continues it.
 */
export function gemini(options: PerTurnOptions = {}): NdjsonProvider {
  return {
    name: "gemini",
    protocol: "ndjson",
    lifecycle: "per-turn",
    command: "gemini",
    resumeFlag: "--resume",
    args(resume) {
      return [
        "--output-format",
        "stream-json",
        "--yolo",
        ...(options.extraArgs ?? []),
        ...(resume ? ["--resume", resume] : []),
        "-p",
        "",
      ];
    },
    env: {},
    userInput: (text) => text,
    interruptInput: () => null,
    permissionAnswer: () => null,
    read(line) {
      const meaning: LineMeaning = {};
      const init = GeminiInit.safeParse(line);
      if (init.success) meaning.sessionId = init.data.session_id;
      const result = GeminiResult.safeParse(line);
      if (result.success) {
        meaning.endOfTurn = true;
        if (result.data.status !== undefined && result.data.status !== "success")
          meaning.fault = classifyErrorText(result.data.error?.message ?? `turn ended: ${result.data.status}`);
      }
      return meaning;
    },
    isStaleResume: (stderr) => /(no|invalid) session|session .* not found/i.test(stderr),
  };
}
