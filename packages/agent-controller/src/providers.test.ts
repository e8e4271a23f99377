import { describe, expect, it } from "vitest";
import { gemini } from "./providers/acp.js";
import { claude } from "./providers/claude.js";
import { codex } from "./providers/codex.js";
import { classifyErrorText, type LineMeaning, type NdjsonProvider } from "./providers/types.js";

/**
 * `read`, checking that a line that means something has a type the provider lists in `types`:
 * an unlisted type would never reach `read` in a session (its lines are stored unparsed).
 */
function read(p: NdjsonProvider, line: Record<string, unknown>): LineMeaning {
  const meaning = p.read(line);
  if (Object.keys(meaning).length > 0) expect(p.types.has(line.type as string), String(line.type)).toBe(true);
  return meaning;
}

describe("provider adapters", () => {
  it("claude: persistent stream-json argv, --resume only once a session id is known", () => {
    const p = claude();
    expect(p.args(null)).toEqual([
      "-p",
      "--input-format",
      "stream-json",
      "--output-format",
      "stream-json",
      "--verbose",
      "--permission-prompt-tool",
      "stdio",
    ]);
    expect(p.args("abc").slice(-2)).toEqual(["--resume", "abc"]);
    expect(claude({ permissions: "skip" }).args(null)).toContain("--dangerously-skip-permissions");
    expect(p.env).toEqual({ CLAUDECODE: null });
  });

  it("claude: the user frame and the interrupt frame are byte-exact", () => {
    const p = claude();
    expect(p.userInput('say "hi"\n')).toBe('{"type":"user","message":{"role":"user","content":"say \\"hi\\"\\n"}}\n');
    expect(p.interruptInput("r1")).toBe(
      '{"type":"control_request","request_id":"r1","request":{"subtype":"interrupt"}}\n',
    );
  });

  it("claude: reads session ids, turn ends, usage, faults and permission requests; tolerates the unknown", () => {
    const p = claude();
    expect(read(p, { type: "system", subtype: "init", session_id: "s1", brand_new_field: 1 })).toEqual({
      sessionId: "s1",
    });
    expect(read(p, { type: "something_new", x: [1] })).toEqual({});
    const result = read(p, {
      type: "result",
      subtype: "success",
      is_error: false,
      session_id: "s2",
      total_cost_usd: 0.5,
      usage: { input_tokens: 3, output_tokens: 4, cache_read_input_tokens: 5 },
    });
    expect(result).toMatchObject({ sessionId: "s2", endOfTurn: true, costIsTotal: true });
    expect(result.usage).toEqual({
      input_tokens: 3,
      output_tokens: 4,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 5,
      cost_usd: 0.5,
    });
    expect(
      read(p, { type: "result", is_error: true, result: "Invalid API key · Please run /login" }).fault,
    ).toMatchObject({
      kind: "auth",
      fatal: true,
    });
    expect(
      read(p, { type: "system", subtype: "api_retry", error_status: 529, error: "overloaded_error" }).fault,
    ).toMatchObject({
      kind: "overloaded",
      fatal: false,
    });
    const ask = read(p, {
      type: "control_request",
      request_id: "q1",
      request: { subtype: "can_use_tool", tool_name: "Bash", input: { command: "ls" } },
    });
    expect(ask).toEqual({ control: true, permission: { requestId: "q1", tool: "Bash", input: { command: "ls" } } });
    // A malformed known type is tolerated, not trusted.
    expect(read(p, { type: "result", usage: "lots" })).toEqual({ endOfTurn: true });
  });

  it("classifies usage-limit text with its reset time", () => {
    expect(classifyErrorText("Claude AI usage limit reached|1767225600")).toEqual({
      kind: "rate_limit",
      fatal: false,
      message: "Claude AI usage limit reached|1767225600",
      resetsAt: 1767225600,
    });
    expect(classifyErrorText("something odd")).toMatchObject({ kind: "error", fatal: true });
  });

  it("codex: exec --json per turn, prompt on stdin, thread id as the session id", () => {
    const p = codex();
    expect(p.lifecycle).toBe("per-turn");
    expect(p.args(null)).toEqual(["exec", "--json", "--dangerously-bypass-approvals-and-sandbox", "-"]);
    expect(p.args("t1")).toEqual(["exec", "--json", "--dangerously-bypass-approvals-and-sandbox", "resume", "t1", "-"]);
    expect(p.userInput("do it")).toBe("do it");
    expect(read(p, { type: "thread.started", thread_id: "t9" })).toEqual({ sessionId: "t9" });
    expect(
      read(p, { type: "turn.completed", usage: { input_tokens: 10, cached_input_tokens: 2, output_tokens: 3 } }),
    ).toEqual({
      endOfTurn: true,
      usage: {
        input_tokens: 10,
        output_tokens: 3,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 2,
        cost_usd: 0,
      },
    });
    expect(read(p, { type: "turn.failed", error: { message: "429 Too Many Requests" } }).fault?.kind).toBe(
      "rate_limit",
    );
  });

  it("classifies Google's quota wording as a rate limit", () => {
    for (const text of [
      "Resource has been exhausted (e.g. check quota).",
      "RESOURCE_EXHAUSTED",
      "You exceeded your current quota",
    ])
      expect(classifyErrorText(text)).toMatchObject({ kind: "rate_limit", fatal: false });
  });

  it("gemini: ACP mode, one process per conversation, extra arguments after --acp", () => {
    const p = gemini({ extraArgs: ["-m", "gemini-2.5-flash"] });
    expect(p).toMatchObject({ name: "gemini", protocol: "acp", command: "gemini" });
    expect(p.args()).toEqual(["--acp", "-m", "gemini-2.5-flash"]);
  });
});
