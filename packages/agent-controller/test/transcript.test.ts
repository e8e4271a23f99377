// The normalized transcript model: real claude and ACP lines (captured by
// test/transcript-capture.test.ts), codex and gemini lines built from their documented wire
// formats, garbage of every kind, and properties over arbitrary input.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { classifyErrorText } from "../src/providers/types.js";
import {
  detectProvider,
  formatEvent,
  mergeDeltas,
  normalize,
  normalizeChunk,
  RAW_KEEP,
  type TranscriptEvent,
  type TranscriptProvider,
} from "../src/transcript/index.js";
import { classifyError } from "../src/transcript/util.js";

const fixture = (name: string) => readFileSync(new URL(`fixtures/transcripts/${name}`, import.meta.url), "utf8");

/** Each line of a fixture with its byte offset. */
function linesOf(text: string): { line: string; offset: number }[] {
  const out: { line: string; offset: number }[] = [];
  let offset = 0;
  for (const line of text.split("\n")) {
    if (line !== "") out.push({ line, offset });
    offset += Buffer.byteLength(`${line}\n`);
  }
  return out;
}

function events(provider: TranscriptProvider, name: string): TranscriptEvent[] {
  const { events, rest } = normalizeChunk(provider, fixture(name));
  expect(rest).toBe("");
  return events;
}

function render(evs: TranscriptEvent[], verbose = false): string[] {
  return mergeDeltas(evs).flatMap((e) => formatEvent(e, { verbose }));
}

const TYPES = new Set([
  "text",
  "user",
  "thinking",
  "tool_call",
  "tool_result",
  "permission_request",
  "turn_end",
  "error",
  "notice",
  "unknown",
]);

describe("claude, lines from the real CLI", () => {
  it("text, a tool allowed, a tool denied, an API error and an interrupt", () => {
    const text = fixture("claude.ndjson");
    const evs = events("claude", "claude.ndjson");
    expect(evs.every((e) => e.type !== "unknown")).toBe(true);
    const init = evs[0];
    const sid = JSON.parse(text.split("\n")[0] ?? "{}").session_id;
    expect(init).toMatchObject({
      type: "notice",
      subtype: "init",
      sessionId: sid,
      model: "claude-opus-5-5",
      offset: 0,
    });
    expect(init?.type === "notice" && init.cwd).toMatch(/^\/tmp\//);

    // Every event carries the byte offset of its line.
    const offsets = new Set(linesOf(text).map((l) => l.offset));
    for (const e of evs) expect(offsets.has(e.offset as number)).toBe(true);

    const calls = evs.filter((e) => e.type === "tool_call");
    expect(calls).toEqual([
      expect.objectContaining({
        id: "toolu_2",
        name: "Bash",
        input: { command: "touch one.txt", description: "run it" },
        summary: "touch one.txt",
      }),
      expect.objectContaining({ id: "toolu_4", name: "Bash", summary: "touch two.txt" }),
    ]);
    const results = evs.filter((e) => e.type === "tool_result");
    expect(results).toEqual([
      expect.objectContaining({ id: "toolu_2", ok: true, preview: "(Bash completed with no output)", lines: 1 }),
      expect.objectContaining({ id: "toolu_4", ok: false, preview: "not today", lines: 1 }),
    ]);
    expect(evs.find((e) => e.type === "error")).toMatchObject({
      kind: "error",
      fatal: true,
      code: 400,
      message: "API Error: 400 scripted 400",
    });
    const ends = evs.filter((e) => e.type === "turn_end");
    expect(ends).toHaveLength(5);
    expect(ends[0]).toMatchObject({
      ok: true,
      reason: "success",
      usage: { inputTokens: 12, outputTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0 },
      cost: { usd: 0.000188, cumulative: true },
      durationMs: 161,
    });
    expect(ends[3]).toMatchObject({ ok: false, reason: "api_error", message: "API Error: 400 scripted 400" });
    expect(ends[4]).toMatchObject({ ok: false, reason: "error_during_execution", message: "interrupted" });

    expect(render(evs).filter((l) => !l.startsWith("· session"))).toEqual([
      "hello from the fake model",
      "— turn done: 12 in / 7 out, $0.0002 total, 161ms",
      "→ Bash: touch one.txt",
      "← ok: (Bash completed with no output)",
      "done",
      "— turn done: 24 in / 14 out, $0.0006 total, 169ms",
      "→ Bash: touch two.txt",
      "← error: not today",
      "done",
      "— turn done: 24 in / 14 out, $0.0009 total, 91ms",
      "✗ error: API Error: 400 scripted 400",
      "— turn failed (api_error) — API Error: 400 scripted 400; 0 in / 0 out, $0.0009 total, 99ms",
      "chunk0 chunk1 chunk2 chunk3 chunk4 ",
      "> [Request interrupted by user]",
      "— turn interrupted: 0 in / 0 out, $0.0012 total, 1.1s",
    ]);
  });

  it("partial messages: stream_event fragments are previews of the whole message that follows", () => {
    const evs = events("claude", "claude-partial.ndjson");
    expect(evs.filter((e) => e.type === "text")).toEqual([
      expect.objectContaining({ text: "streamed words", delta: true, preview: true }),
      expect.objectContaining({ text: "streamed words", delta: false }),
    ]);
    expect(evs.find((e) => e.type === "notice" && e.subtype === "status")).toMatchObject({ level: "debug" });
    // Merged: the preview goes, the whole message stays once.
    expect(mergeDeltas(evs).filter((e) => e.type === "text")).toEqual([
      expect.objectContaining({ text: "streamed words", delta: false }),
    ]);
    expect(mergeDeltas(evs, { keepPreviews: true }).filter((e) => e.type === "text")).toHaveLength(2);
    expect(render(evs)).not.toContain("· status: requesting");
    expect(render(evs, true)).toContain("· status: requesting");
  });

  it("a resumed session and an API retry", () => {
    const evs = events("claude", "claude-resume-retry.ndjson");
    const outcome = evs.find((e) => e.type === "notice" && e.subtype === "session_outcome");
    expect(outcome).toMatchObject({ level: "info", message: expect.stringMatching(/^resumed session [0-9a-f-]{36}$/) });
    expect(evs.find((e) => e.type === "notice" && e.subtype === "api_retry")).toMatchObject({
      level: "warning",
      message: "API call failed (rate_limit 429); retry 1/10 in 0.5s",
    });
  });

  it("thinking, subagents, permission requests, rate limits and other documented lines", () => {
    const sid = "0b5e7a9c-2a7d-4f5e-9a53-1f0c2d3e4f5a";
    const n = (line: unknown) => normalize("claude", JSON.stringify(line));
    expect(
      n({
        type: "assistant",
        message: {
          content: [
            { type: "thinking", thinking: "Check the tests first.", signature: "x" },
            { type: "redacted_thinking", data: "…" },
            { type: "text", text: "Running them." },
            { type: "tool_use", id: "toolu_9", name: "Task", input: { description: "find flaky tests", prompt: "…" } },
          ],
        },
        parent_tool_use_id: null,
        session_id: sid,
      }),
    ).toEqual([
      { type: "thinking", text: "Check the tests first.", delta: false },
      { type: "thinking", text: "[redacted]", delta: false },
      { type: "text", text: "Running them.", delta: false },
      {
        type: "tool_call",
        id: "toolu_9",
        name: "Task",
        input: { description: "find flaky tests", prompt: "…" },
        summary: "find flaky tests",
      },
    ]);
    // Inside a subagent: the parent tool call rides along, and the line is indented.
    const sub = n({
      type: "assistant",
      message: {
        content: [{ type: "tool_use", id: "toolu_10", name: "Grep", input: { pattern: "flaky", path: "src" } }],
      },
      parent_tool_use_id: "toolu_9",
      timestamp: "2026-11-29T22:56:07.414Z",
    });
    expect(sub).toEqual([
      expect.objectContaining({ parent: "toolu_9", summary: "flaky in src", timestamp: "2026-11-29T22:56:07.414Z" }),
    ]);
    expect(formatEvent(sub[0] as TranscriptEvent)).toEqual(["  → Grep: flaky in src"]);
    // Tool output as blocks, with an image; a long output counts its lines.
    const output = Array.from({ length: 40 }, (_, i) => `line ${i}`).join("\n");
    expect(
      n({
        type: "user",
        message: {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_9",
              content: [
                { type: "text", text: output },
                { type: "image", source: {} },
              ],
            },
          ],
        },
      }),
    ).toEqual([
      {
        type: "tool_result",
        id: "toolu_9",
        ok: true,
        preview: `${output.split("\n").slice(0, 10).join("\n")}…`,
        lines: 41,
      },
    ]);
    expect(n({ type: "user", message: { role: "user", content: "plain prompt" } })).toEqual([
      { type: "user", text: "plain prompt", delta: false },
    ]);
    // With --permission-prompt-tool stdio (the session keeps these off the transcript, but a raw log has them).
    const ask = n({
      type: "control_request",
      request_id: "req_1",
      request: { subtype: "can_use_tool", tool_name: "Bash", input: { command: "npm test" }, tool_use_id: "toolu_11" },
    });
    expect(ask).toEqual([
      {
        type: "permission_request",
        requestId: "req_1",
        tool: "Bash",
        input: { command: "npm test" },
        summary: "npm test",
        toolCallId: "toolu_11",
      },
    ]);
    expect(formatEvent(ask[0] as TranscriptEvent)).toEqual(["? permission: Bash: npm test"]);
    expect(
      n({
        type: "rate_limit_event",
        rate_limit_info: { status: "rejected", resetsAt: 1795999999, rateLimitType: "five_hour" },
      }),
    ).toEqual([
      {
        type: "error",
        kind: "rate_limit",
        fatal: false,
        message: "rate limit (five hour) reached",
        resetsAt: 1795999999,
      },
    ]);
    expect(n({ type: "rate_limit_event", rate_limit_info: { status: "allowed" } })).toMatchObject([
      { type: "notice", level: "debug", subtype: "rate_limit" },
    ]);
    expect(n({ type: "rate_limit_event", rate_limit_info: { status: "allowed_warning" } })).toMatchObject([
      { type: "notice", level: "warning" },
    ]);
    expect(n({ type: "system", subtype: "compact_boundary", compact_metadata: { trigger: "auto" } })).toMatchObject([
      { type: "notice", level: "info", subtype: "compaction", message: "context compacted" },
    ]);
    expect(n({ type: "system", subtype: "hook_response", session_id: sid })).toMatchObject([
      { type: "notice", level: "debug", subtype: "hook_response" },
    ]);
    expect(
      n({
        type: "result",
        subtype: "error_max_turns",
        is_error: true,
        num_turns: 3,
        total_cost_usd: 0.5,
        usage: { input_tokens: 1200, output_tokens: 350, cache_read_input_tokens: 800 },
      }),
    ).toEqual([
      {
        type: "turn_end",
        ok: false,
        reason: "error_max_turns",
        usage: { inputTokens: 1200, outputTokens: 350, cacheReadTokens: 800, cacheWriteTokens: 0 },
        cost: { usd: 0.5, cumulative: true },
      },
    ]);
    const limited = n({
      type: "result",
      subtype: "success",
      is_error: true,
      result: "Claude AI usage limit reached|1795999999",
    });
    expect(limited).toMatchObject([
      { type: "turn_end", ok: false, message: "Claude AI usage limit reached|1795999999" },
    ]);
    // A line type claude may add later: unknown, with its tag.
    expect(n({ type: "tool_progress", tool_use_id: "toolu_9" })).toMatchObject([
      { type: "unknown", rawType: "tool_progress" },
    ]);
  });
});

describe("codex exec --json", () => {
  it("items become calls, results, thinking, text and a turn end with usage", () => {
    const evs = events("codex", "codex.ndjson");
    expect(evs.every((e) => e.type !== "unknown")).toBe(true);
    expect(evs[0]).toMatchObject({
      type: "notice",
      subtype: "init",
      sessionId: "0199a213-81c0-7800-8aa1-bbab2a035a53",
    });
    expect(
      evs.filter((e) => e.type === "tool_call").map((e) => e.type === "tool_call" && [e.id, e.name, e.summary]),
    ).toEqual([
      ["item_2", "shell", "bash -lc 'npm test'"],
      ["item_3", "shell", "bash -lc 'cat missing.txt'"],
      ["item_5", "apply_patch", "update src/sum.ts, add src/sum.test.ts"],
      ["item_6", "agentmux.send", '{"to":"reviewer","text":"sum() fixed"}'],
      ["item_7", "web_search", "vitest toBeCloseTo precision"],
    ]);
    expect(evs.find((e) => e.type === "tool_result" && e.id === "item_3")).toMatchObject({
      ok: false,
      preview: "exit code 1\ncat: missing.txt: No such file or directory",
      lines: 1,
    });
    expect(evs.at(-1)).toMatchObject({
      type: "turn_end",
      ok: true,
      usage: { inputTokens: 24763, cacheReadTokens: 24448, outputTokens: 122, cacheWriteTokens: 0 },
    });
    expect(render(evs)).toEqual([
      "· thread 0199a213-81c0-7800-8aa1-bbab2a035a53",
      "! Model metadata for `fake-model` not found. Defaulting to fallback metadata; this can degrade performance and cause issues.",
      "thinking: **Running the tests**",
      "",
      "  I'll run the test suite first to see what fails.",
      "→ shell: bash -lc 'npm test'",
      "← ok (7 lines)",
      "→ shell: bash -lc 'cat missing.txt'",
      "← error: exit code 1",
      "· plan: [x] run the tests, [ ] fix the off-by-one in sum()",
      "→ apply_patch: update src/sum.ts, add src/sum.test.ts",
      "← ok (2 lines)",
      '→ agentmux.send: {"to":"reviewer","text":"sum() fixed"}',
      "← ok: delivered to reviewer",
      "→ web_search: vitest toBeCloseTo precision",
      "← ok",
      "The tests pass. I fixed the off-by-one in `sum()` and added a test for it.",
      "— turn done: 25k in (24k cached) / 122 out",
    ]);
  });

  it("a reconnect is a warning; an auth failure an error and a failed turn", () => {
    const evs = events("codex", "codex-failed.ndjson");
    expect(evs.slice(2)).toEqual([
      expect.objectContaining({ type: "notice", level: "warning", subtype: "api_retry" }),
      expect.objectContaining({ type: "error", kind: "auth", fatal: true }),
      expect.objectContaining({
        type: "turn_end",
        ok: false,
        reason: "failed",
        message: expect.stringMatching(/^unexpected status 401/),
      }),
    ]);
  });
});

describe("gemini stream-json", () => {
  it("init, the user's prompt, streamed text, tools and stats", () => {
    const evs = events("gemini", "gemini.ndjson");
    expect(evs.every((e) => e.type !== "unknown")).toBe(true);
    expect(evs[0]).toMatchObject({
      type: "notice",
      subtype: "init",
      sessionId: "c0ffee00-1111-4222-8333-444455556666",
      model: "gemini-2.5-pro",
      timestamp: "2026-11-29T10:00:00.000Z",
    });
    expect(evs.filter((e) => e.type === "text").every((e) => e.type === "text" && e.delta)).toBe(true);
    expect(mergeDeltas(evs).filter((e) => e.type === "text")).toEqual([
      expect.objectContaining({ text: "I'll run the tests first.", delta: false }),
      expect.objectContaining({ text: "The tests pass; NOTES.md does not exist.", delta: false }),
    ]);
    expect(evs.at(-1)).toEqual({
      type: "turn_end",
      ok: true,
      reason: "success",
      usage: { inputTokens: 8120, outputTokens: 330, cacheReadTokens: 4096, cacheWriteTokens: 0 },
      durationMs: 7100,
      offset: expect.any(Number),
      timestamp: "2026-11-29T10:00:07.100Z",
    });
    expect(render(evs)).toEqual([
      "· session c0ffee00-1111-4222-8333-444455556666 · gemini-2.5-pro",
      "> run the tests and read NOTES.md",
      "I'll run the tests first.",
      "→ run_shell_command: npm test",
      "← ok (5 lines)",
      "→ read_file: /work/demo/NOTES.md",
      "← error: File not found: /work/demo/NOTES.md",
      "! Loop detection: the same tool call repeated",
      "The tests pass; NOTES.md does not exist.",
      "— turn done: 8.1k in (4.1k cached) / 330 out, 7.1s",
    ]);
  });

  it("an API error and a failed turn", () => {
    const evs = events("gemini", "gemini-failed.ndjson");
    expect(evs.slice(2)).toEqual([
      expect.objectContaining({ type: "error", kind: "rate_limit", fatal: false }),
      expect.objectContaining({ type: "turn_end", ok: false, reason: "error", durationMs: 4100 }),
    ]);
  });
});

describe("lines of the real Codex, Gemini and Claude ACP programs (captured by transcript-real)", () => {
  it("codex exec: a thread, text, a shell command and its output, usage, a 429", () => {
    const evs = events("codex", "codex-real.ndjson");
    expect(evs.every((e) => e.type !== "unknown")).toBe(true);
    const lines = render(evs);
    expect(lines).toEqual(
      expect.arrayContaining([
        "hello from the fake model",
        "— turn done: 12 in / 7 out",
        "→ shell: /bin/bash -lc 'echo from-a-tool'",
        "← ok: from-a-tool",
        "done",
      ]),
    );
    expect(evs.find((e) => e.type === "error")).toMatchObject({ kind: "rate_limit" });
    expect(lines.at(-1)).toMatch(/^— turn failed .*429/);
  });

  it("gemini in ACP mode: text, a permission request, the command's result, tokens, a cancel", () => {
    const evs = events("gemini", "gemini-acp.ndjson");
    expect(evs.every((e) => e.type !== "unknown")).toBe(true);
    expect(render(evs).slice(1)).toEqual([
      "hello from the fake model",
      "— turn done: 12 in / 7 out",
      "? permission: touch from-a-tool.txt",
      "← ok",
      "done",
      "— turn done: 24 in / 14 out",
      "chunk0 chunk1 chunk2 ",
      "— turn interrupted",
    ]);
  });

  it("Claude Code through Zed's ACP adapter: text, a Bash call asked for and run, usage, a cancel", () => {
    const evs = events("acp", "claude-acp.ndjson");
    expect(evs.every((e) => e.type !== "unknown")).toBe(true);
    expect(render(evs).slice(1)).toEqual([
      "hello from the fake model",
      "— turn done: 12 in / 7 out",
      "→ Bash: Terminal",
      "? permission: touch from-a-tool.txt",
      "← ok (3 lines)",
      "done",
      "— turn done: 24 in / 14 out",
      "chunk0 chunk1 chunk2 ",
      "— turn interrupted",
    ]);
  });
});

describe("ACP (what the agent writes on stdout)", () => {
  it("the stand-in agent's real lines: handshake, chunks, a permission request, a cancel", () => {
    const evs = events("acp", "acp.ndjson");
    expect(evs.every((e) => e.type !== "unknown")).toBe(true);
    expect(evs.find((e) => e.type === "permission_request")).toEqual({
      type: "permission_request",
      requestId: "0",
      tool: "write_file",
      input: { path: "x.txt" },
      summary: "x.txt",
      toolCallId: "call-1",
      options: [
        { id: "yes", name: "Allow", kind: "allow_once" },
        { id: "no", name: "Reject", kind: "reject_once" },
      ],
      offset: expect.any(Number),
    });
    expect(render(evs).slice(1)).toEqual([
      "echo:hello",
      "— turn done",
      "? permission: write_file: x.txt",
      "permission:yes",
      "— turn done",
      "chunk0 chunk1 chunk2 ",
      "— turn interrupted",
    ]);
    expect(render(evs)[0]).toMatch(/^· session acp-\d+-\d+$/);
  });

  it("tool calls and updates, plans, thoughts, modes, usage, errors and refusals", () => {
    const evs = events("acp", "acp-tools.ndjson");
    expect(evs.every((e) => e.type !== "unknown")).toBe(true);
    expect(evs.filter((e) => e.type === "tool_call")).toEqual([
      expect.objectContaining({ id: "call_1", name: "execute", summary: "npm test", input: { command: "npm test" } }),
      expect.objectContaining({ id: "call_2", name: "read", summary: "Read NOTES.md" }),
    ]);
    expect(evs.filter((e) => e.type === "tool_result")).toEqual([
      expect.objectContaining({ id: "call_1", ok: true, lines: 2 }),
      expect.objectContaining({
        id: "call_2",
        ok: false,
        preview: "ENOENT: no such file or directory, open '/work/demo/NOTES.md'",
      }),
    ]);
    expect(evs.find((e) => e.type === "turn_end")).toMatchObject({
      ok: true,
      reason: "end_turn",
      usage: { inputTokens: 1200, outputTokens: 360, cacheReadTokens: 800 },
    });
    expect(evs.find((e) => e.type === "error")).toMatchObject({
      kind: "overloaded",
      code: -32603,
      message: "Internal error: model overloaded, try again later",
    });
    expect(render(evs)).toEqual([
      "· session sess_7f3a · mode default",
      "thinking: The user wants the tests run. Start with npm test.",
      "· plan: [~] Run the tests, [ ] Fix what fails",
      "→ execute: npm test",
      "? permission: npm test",
      "← ok (2 lines)",
      "→ read: Read NOTES.md",
      "← error: ENOENT: no such file or directory, open '/work/demo/NOTES.md'",
      "· mode: plan",
      "The tests pass. NOTES.md does not exist.",
      "— turn done: 1.2k in (800 cached) / 360 out",
      "✗ overloaded: Internal error: model overloaded, try again later",
      "> and again",
      "— turn failed (refusal) — the agent refused the prompt",
    ]);
    expect(render(evs, true)).toEqual(
      expect.arrayContaining([
        "· ACP v1 agent demo-agent 0.4.0",
        "· available commands update",
        "· tool call_1 in_progress",
        "· context 53000/200000 tokens, cost 0.045 USD",
      ]),
    );
  });

  it("unknown methods and update kinds are unknown, with their tag", () => {
    expect(normalize("acp", '{"jsonrpc":"2.0","method":"_vendor/ping","params":{}}')).toMatchObject([
      { type: "unknown", rawType: "_vendor/ping" },
    ]);
    expect(
      normalize("acp", '{"jsonrpc":"2.0","method":"session/update","params":{"update":{"sessionUpdate":"hologram"}}}'),
    ).toMatchObject([{ type: "unknown", rawType: "hologram" }]);
  });
});

describe("lines the session itself writes", () => {
  it("a stale resume that started fresh, in any provider's transcript", () => {
    const line = JSON.stringify({
      type: "system",
      subtype: "agentmux_session_outcome",
      outcome: "fresh",
      attempted_sid: "old",
      actual_sid: "new",
      timestamp: "2026-11-29T22:54:59.337Z",
    });
    for (const p of ["claude", "codex", "gemini", "acp"] as const)
      expect(normalize(p, line, 10)).toEqual([
        {
          type: "notice",
          level: "info",
          subtype: "session_outcome",
          message: "could not resume old; started a new session new",
          sessionId: "new",
          offset: 10,
          timestamp: "2026-11-29T22:54:59.337Z",
        },
      ]);
  });
});

describe("garbage never throws and becomes unknown", () => {
  const providers = ["claude", "codex", "gemini", "acp"] as const;

  it("non-JSON, cut lines, non-objects and blank lines", () => {
    const real = fixture("claude.ndjson").split("\n")[1] ?? "";
    for (const p of providers) {
      expect(normalize(p, "npm WARN deprecated something", 5)).toEqual([
        { type: "unknown", rawType: null, raw: "npm WARN deprecated something", rawLength: 29, offset: 5 },
      ]);
      expect(normalize(p, real.slice(0, real.length / 2))).toMatchObject([{ type: "unknown", rawType: null }]);
      expect(normalize(p, "[1,2,3]")).toMatchObject([{ type: "unknown", raw: "[1,2,3]" }]);
      expect(normalize(p, "42")).toMatchObject([{ type: "unknown" }]);
      expect(normalize(p, "null")).toMatchObject([{ type: "unknown" }]);
      expect(normalize(p, '{"no":"type"}')).toMatchObject([{ type: "unknown", rawType: null }]);
      expect(normalize(p, '{"type":{"nested":true}}')).toMatchObject([{ type: "unknown", rawType: null }]);
      expect(normalize(p, "")).toEqual([]);
      expect(normalize(p, "   \r")).toEqual([]);
      expect(normalize(p, "\u0000\u00ff\ufffd{")).toMatchObject([{ type: "unknown" }]);
    }
  });

  it("huge lines: garbage is cut in the event, a huge real line gives a short preview", () => {
    const garbage = "x".repeat(5_000_000);
    const [e] = normalize("claude", garbage, 7);
    expect(e).toMatchObject({ type: "unknown", rawLength: 5_000_000, offset: 7 });
    expect(e?.type === "unknown" && e.raw.length).toBe(RAW_KEEP);
    const output = "0123456789\n".repeat(500_000);
    const line = JSON.stringify({
      type: "user",
      message: { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: output }] },
    });
    const [r] = normalize("claude", line);
    expect(r).toMatchObject({ type: "tool_result", ok: true, lines: 500_000 });
    expect(r?.type === "tool_result" && r.preview.length).toBeLessThanOrEqual(501);
  });

  it("odd values handed in already parsed", () => {
    const hostile = {
      type: "assistant",
      get message(): unknown {
        throw new Error("no");
      },
    };
    expect(normalize("claude", hostile as never)).toMatchObject([{ type: "unknown", rawType: "assistant" }]);
    const big = {
      type: "assistant",
      message: { content: [{ type: "tool_use", id: "t", name: "X", input: { n: 10n } }] },
    };
    expect(normalize("claude", big as never)).toMatchObject([{ type: "tool_call", summary: "[unserializable]" }]);
    const bare = Object.create(null) as Record<string, unknown>;
    bare.type = "result";
    bare.usage = Object.create(null);
    expect(normalize("claude", bare)).toMatchObject([{ type: "turn_end", ok: true }]);
  });

  it("property: any string, any JSON value, any object — an array of events, never a throw", () => {
    const check = (input: string | Record<string, unknown>, offset?: number) => {
      for (const p of [...providers, "someone-else"]) {
        const evs = normalize(p, input, offset);
        expect(Array.isArray(evs)).toBe(true);
        for (const e of evs) {
          expect(TYPES.has(e.type)).toBe(true);
          if (offset !== undefined) expect(e.offset).toBe(offset);
          for (const line of formatEvent(e, { verbose: true, color: true, width: 40 }))
            expect(typeof line).toBe("string");
        }
      }
    };
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), fc.nat(), (s, off) => check(s, off)),
      {
        numRuns: 300,
      },
    );
    fc.assert(
      fc.property(fc.json({ depthSize: "small" }), (s) => check(s)),
      { numRuns: 300 },
    );
    // Objects shaped like provider lines, with arbitrary values in the fields the mappers read.
    const value = fc.oneof(fc.jsonValue(), fc.anything({ maxDepth: 2 }));
    const line = fc.record(
      {
        type: fc.constantFrom(
          "system",
          "assistant",
          "user",
          "stream_event",
          "result",
          "rate_limit_event",
          "control_request",
          "thread.started",
          "turn.completed",
          "turn.failed",
          "item.started",
          "item.completed",
          "error",
          "init",
          "message",
          "tool_use",
          "tool_result",
        ),
        subtype: fc.oneof(fc.constantFrom("init", "api_retry", "success", "agentmux_session_outcome"), value),
        message: fc.oneof(
          fc.record({ content: fc.oneof(value, fc.array(fc.record({ type: fc.string(), text: value }))) }),
          value,
        ),
        item: fc.oneof(
          fc.record({
            id: value,
            type: fc.constantFrom("command_execution", "file_change", "todo_list", "mcp_tool_call"),
          }),
          value,
        ),
        usage: value,
        stats: value,
        content: value,
        error: value,
        event: value,
        request: value,
      },
      { requiredKeys: ["type"] },
    );
    fc.assert(
      fc.property(line, (l) => check(l as Record<string, unknown>)),
      { numRuns: 500 },
    );
    const rpc = fc.record(
      {
        jsonrpc: fc.constant("2.0"),
        id: fc.oneof(fc.nat(), fc.string(), value),
        method: fc.oneof(fc.constantFrom("session/update", "session/request_permission", "fs/read_text_file"), value),
        params: fc.oneof(
          fc.record({
            update: fc.record({
              sessionUpdate: fc.constantFrom(
                "agent_message_chunk",
                "tool_call",
                "tool_call_update",
                "plan",
                "usage_update",
                "notice",
              ),
              content: value,
              status: fc.constantFrom("completed", "failed", "pending"),
              entries: value,
              rawInput: value,
            }),
            toolCall: value,
            options: value,
          }),
          value,
        ),
        result: value,
        error: value,
      },
      { requiredKeys: ["jsonrpc"] },
    );
    fc.assert(
      fc.property(rpc, (l) => check(l as Record<string, unknown>)),
      { numRuns: 500 },
    );
  });
});

describe("normalizeChunk", () => {
  it("byte offsets across multi-byte text and CRLF, and the unfinished tail as rest", () => {
    const a = JSON.stringify({ type: "assistant", message: { content: [{ type: "text", text: "héllo 👋" }] } });
    const b = JSON.stringify({ type: "result", subtype: "success", usage: { input_tokens: 1 } });
    const chunk = `${a}\r\n${b}\n{"type":"assi`;
    const out = normalizeChunk("claude", chunk, { offset: 100 });
    expect(out.events.map((e) => [e.type, e.offset])).toEqual([
      ["text", 100],
      ["turn_end", 100 + Buffer.byteLength(`${a}\r\n`)],
    ]);
    expect(out.rest).toBe('{"type":"assi');
    expect(out.restOffset).toBe(100 + Buffer.byteLength(`${a}\r\n${b}\n`));
    const end = normalizeChunk("claude", out.rest, { offset: out.restOffset, final: true });
    expect(end.events).toMatchObject([{ type: "unknown", offset: out.restOffset }]);
    expect(end.rest).toBe("");
  });

  it("property: cutting a transcript anywhere gives the same events as reading it whole", () => {
    const text = fixture("claude.ndjson") + fixture("gemini.ndjson");
    const whole = normalizeChunk("claude", text).events;
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: text.length }), { maxLength: 30 }), (cuts) => {
        const points = [...cuts.sort((x, y) => x - y), text.length];
        const got: TranscriptEvent[] = [];
        let rest = "";
        let offset = 0;
        let from = 0;
        for (const at of points) {
          const out = normalizeChunk("claude", rest + text.slice(from, at), { offset });
          got.push(...out.events);
          rest = out.rest;
          offset = out.restOffset;
          from = at;
        }
        expect(rest).toBe("");
        expect(got).toEqual(whole);
      }),
      { numRuns: 50 },
    );
  });
});

describe("formatEvent", () => {
  it("short lines, no colour unless asked, one-liners cut to the width", () => {
    expect(
      formatEvent({ type: "tool_call", id: "1", name: "Bash", input: { command: "npm test" }, summary: "npm test" }),
    ).toEqual(["→ Bash: npm test"]);
    expect(formatEvent({ type: "tool_result", id: "1", ok: true, preview: "a\nb", lines: 12 })).toEqual([
      "← ok (12 lines)",
    ]);
    expect(formatEvent({ type: "tool_result", id: "1", ok: false, preview: "boom\nat x", lines: 2 })).toEqual([
      "← error: boom (2 lines)",
    ]);
    expect(
      formatEvent({
        type: "turn_end",
        ok: true,
        reason: "success",
        usage: { inputTokens: 1234, outputTokens: 350, cacheReadTokens: 0, cacheWriteTokens: 0 },
        cost: { usd: 0.0123, cumulative: false },
      }),
    ).toEqual(["— turn done: 1.2k in / 350 out, $0.0123"]);
    expect(formatEvent({ type: "text", text: "line one\nline two\n", delta: false })).toEqual(["line one", "line two"]);
    expect(
      formatEvent({ type: "error", kind: "rate_limit", fatal: false, message: "slow down", resetsAt: 1795999999 }),
    ).toEqual(["✗ rate limit: slow down (resets 2026-11-30T00:53:19Z)"]);
    const long = formatEvent(
      { type: "tool_call", id: "1", name: "Bash", input: {}, summary: "x".repeat(500) },
      { width: 40 },
    );
    expect(long[0]).toHaveLength(40);
    expect(long[0]?.endsWith("…")).toBe(true);
    const plain = formatEvent({ type: "error", kind: "auth", fatal: true, message: "bad key" });
    expect(plain).toEqual(["✗ auth: bad key"]);
    expect(plain.join("")).not.toContain("\x1b[");
    expect(formatEvent({ type: "error", kind: "auth", fatal: true, message: "bad key" }, { color: true })[0]).toBe(
      "\x1b[31m✗ auth: bad key\x1b[0m",
    );
    expect(formatEvent({ type: "unknown", rawType: null, raw: "Segmentation fault", rawLength: 18 })).toEqual([
      "? unrecognized: Segmentation fault",
    ]);
  });
});

describe("agreement with the session", () => {
  it("error kinds match the session's fault classification", () => {
    for (const [text, status] of [
      ["invalid api key", undefined],
      ["Unauthorized", 401],
      ["rate_limit", 429],
      ["Claude AI usage limit reached|1795999999", undefined],
      ["Overloaded", 529],
      ["service unavailable", undefined],
      ["bad request", 400],
      ["something broke", undefined],
    ] as const) {
      const fault = classifyErrorText(text, status);
      expect(classifyError(text, status)).toEqual({
        kind: fault.kind,
        fatal: fault.fatal,
        ...(fault.resetsAt !== undefined ? { resetsAt: fault.resetsAt } : {}),
      });
    }
  });

  it("detectProvider tells the providers apart by the shape of a line", () => {
    const first = (name: string) => fixture(name).split("\n")[0] ?? "";
    expect(detectProvider(first("claude.ndjson"))).toBe("claude");
    expect(detectProvider(first("codex.ndjson"))).toBe("codex");
    expect(detectProvider(first("gemini.ndjson"))).toBe("gemini");
    expect(detectProvider(first("acp.ndjson"))).toBe("acp");
    expect(detectProvider("not json")).toBe("claude");
    // A provider name that is also an Object.prototype key is still just an unknown name.
    expect(normalize("toString", first("codex.ndjson"))).toMatchObject([{ type: "notice", subtype: "init" }]);
    // An unknown provider name: each line is read as the provider it looks like.
    expect(normalizeChunk("some-agent", fixture("gemini.ndjson")).events).toEqual(events("gemini", "gemini.ndjson"));
  });
});
