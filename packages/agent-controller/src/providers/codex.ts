import * as z from "zod/mini";
import { classifyErrorText, type LineMeaning, type NdjsonProvider, UsageFields, usageFrom } from "./types.js";

/** What every per-turn CLI shares: the prompt is stdin, no control frames, nothing to answer. */
const PER_TURN = {
  protocol: "ndjson",
  lifecycle: "per-turn",
  env: {},
  userInput: (text: string) => text,
  interruptInput: () => null,
  permissionAnswer: () => null,
} as const;

export interface PerTurnOptions {
  /** More arguments, placed before the prompt marker. */
  extraArgs?: readonly string[];
}

/** A conversation id: 1 to 200 characters. */
const conversationId = () => z.string().check(z.minLength(1), z.maxLength(200));
const ThreadStarted = z.looseObject({ thread_id: conversationId() });
const TurnCompleted = z.looseObject({ usage: z.optional(UsageFields) });
const TurnFailed = z.looseObject({
  error: z.optional(z.looseObject({ message: z.optional(z.string()) })),
});
const CodexError = z.looseObject({ message: z.optional(z.string()) });

/**
 * Codex `exec --json`: one process per turn. The prompt goes on stdin (`-`), the thread id from
 * `thread.started` names the conversation and `exec resume <id>` continues it. Chosen over
 * `app-server` because it needs no handshake and its JSONL is documented as stable.
 */
export function codex(options: PerTurnOptions = {}): NdjsonProvider {
  return {
    ...PER_TURN,
    name: "codex",
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
    types: new Set(["thread.started", "turn.completed", "turn.failed", "error"]),
    read(line) {
      // Most lines are items (`item.*`): only the few types that mean something are validated.
      const meaning: LineMeaning = {};
      switch (line.type) {
        case "thread.started": {
          const thread = ThreadStarted.safeParse(line);
          if (thread.success) meaning.sessionId = thread.data.thread_id;
          break;
        }
        case "turn.completed": {
          const done = TurnCompleted.safeParse(line);
          meaning.endOfTurn = true;
          if (done.success) meaning.usage = usageFrom(done.data.usage ?? {}, 0);
          break;
        }
        case "turn.failed": {
          const failed = TurnFailed.safeParse(line);
          meaning.endOfTurn = true;
          meaning.fault = classifyErrorText((failed.success && failed.data.error?.message) || "turn failed");
          break;
        }
        case "error": {
          const error = CodexError.safeParse(line);
          meaning.fault = classifyErrorText((error.success && error.data.message) || "error");
          break;
        }
      }
      return meaning;
    },
    isStaleResume: (stderr) => /no (rollout|session|thread) found|not found for (thread|session)/i.test(stderr),
  };
}
