import { describe, expect, expectTypeOf, it } from "vitest";
import { AGENT_ENV_LIMITS, AGENT_PROVIDERS, AgentBlockMeta, type AgentUsage } from "../src/index.js";

const base = { view: "agent", "agent:provider": "claude", "agent:cwd": "/home/alice/proj" } as const;

/** The messages AgentBlockMeta gives for `base` with `patch` applied (`undefined` removes a key). */
function problems(patch: Record<string, unknown>): string[] {
  const meta: Record<string, unknown> = { ...base, ...patch };
  for (const [key, value] of Object.entries(patch)) if (value === undefined) delete meta[key];
  const r = AgentBlockMeta.safeParse(meta);
  return r.success ? [] : r.error.issues.map((i) => i.message);
}

describe("AgentBlockMeta: what makes a block an agent", () => {
  it("accepts the minimal meta and keeps other keys", () => {
    const r = AgentBlockMeta.safeParse({
      ...base,
      "agent:name": "alice",
      color: "red",
      "session:was_interrupted": true,
    });
    expect(r.success).toBe(true);
    if (r.success) expect(r.data).toMatchObject({ color: "red", "session:was_interrupted": true });
  });

  it("accepts every optional key set", () => {
    const full = {
      ...base,
      "agent:name": "a".repeat(200),
      "agent:command": "/usr/local/bin/claude",
      "agent:args": ["--model", "opus"],
      "agent:permissions": "skip",
      "agent:env": { PATH_EXTRA: "/opt/bin", _private: "", TOKEN2: "x" },
      "session:id": "sess-1",
      "session:usage": { input_tokens: 1, output_tokens: 2 },
    };
    expect(problems(full)).toEqual([]);
    expect(problems({ "session:id": null, "session:usage": null })).toEqual([]);
  });

  it("view must be agent", () => {
    const message = 'not an agent block (its meta needs view: "agent")';
    expect(problems({ view: "term" })).toEqual([message]);
    expect(problems({ view: undefined })).toEqual([message]);
  });

  it("agent:provider is one of the four providers", () => {
    expect(AGENT_PROVIDERS).toEqual(["claude", "codex", "gemini", "acp"]);
    for (const provider of AGENT_PROVIDERS) expect(problems({ "agent:provider": provider })).toEqual([]);
    expect(problems({ "agent:provider": "gpt" })).toEqual(["agent:provider must be one of claude, codex, gemini, acp"]);
    expect(problems({ "agent:provider": undefined })).toEqual(["agent:provider is required"]);
  });

  it("agent:cwd is an absolute path, ~ or ~/… (srv expands the ~)", () => {
    for (const cwd of ["/", "/home/alice/proj", "~", "~/", "~/proj/sub"])
      expect(problems({ "agent:cwd": cwd })).toEqual([]);
    const message = 'agent:cwd must be an absolute path, "~" or start with "~/"';
    for (const cwd of ["", "proj", "./proj", "~alice/proj", "~proj", " /abs"]) {
      expect(problems({ "agent:cwd": cwd })).toEqual([message]);
    }
    expect(problems({ "agent:cwd": 7 })).toEqual(["agent:cwd must be a string"]);
    expect(problems({ "agent:cwd": undefined })).toEqual(["agent:cwd is required"]);
  });

  it("agent:name is 1 to 200 characters", () => {
    expect(problems({ "agent:name": "a" })).toEqual([]);
    expect(problems({ "agent:name": "" })).toEqual(["agent:name must not be empty"]);
    expect(problems({ "agent:name": "a".repeat(201) })).toEqual(["agent:name must be at most 200 characters"]);
    expect(problems({ "agent:name": 1 })).toEqual(["agent:name must be a string"]);
  });

  it("agent:command is non-empty", () => {
    expect(problems({ "agent:command": "claude" })).toEqual([]);
    expect(problems({ "agent:command": "" })).toEqual(["agent:command must not be empty"]);
  });

  it("agent:args is an array of strings", () => {
    expect(problems({ "agent:args": [] })).toEqual([]);
    expect(problems({ "agent:args": "--x" })).toEqual(["agent:args must be an array of strings"]);
    expect(problems({ "agent:args": ["--x", 1] })).toEqual(["agent:args must be an array of strings"]);
  });

  it("agent:permissions is ask or skip", () => {
    expect(problems({ "agent:permissions": "ask" })).toEqual([]);
    expect(problems({ "agent:permissions": "always" })).toEqual(["agent:permissions must be ask or skip"]);
  });

  it("session:id is a non-empty string or null; session:usage an AgentUsage or null", () => {
    expect(problems({ "session:id": "" })).toEqual(["session:id must not be empty"]);
    expect(problems({ "session:usage": { input_tokens: -1, output_tokens: 0 } }).length).toBe(1);
    const r = AgentBlockMeta.safeParse({ ...base, "session:usage": { input_tokens: 3, output_tokens: 4 } });
    expect(r.success && r.data["session:usage"]).toEqual({
      input_tokens: 3,
      output_tokens: 4,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cost_usd: 0,
    });
  });

  it("infers the type srv reads", () => {
    expectTypeOf<AgentBlockMeta["agent:provider"]>().toEqualTypeOf<"claude" | "codex" | "gemini" | "acp">();
    expectTypeOf<AgentBlockMeta["agent:env"]>().toEqualTypeOf<Record<string, string> | undefined>();
    expectTypeOf<AgentBlockMeta["session:usage"]>().toEqualTypeOf<AgentUsage | null | undefined>();
    expectTypeOf<AgentBlockMeta["view"]>().toEqualTypeOf<"agent">();
  });
});

describe("AgentBlockMeta: agent:env", () => {
  const { maxKeys, maxValueBytes, reservedPrefix } = AGENT_ENV_LIMITS;

  it("has documented limits", () => {
    expect(maxKeys).toBe(256);
    expect(maxValueBytes).toBe(32 * 1024);
    expect(reservedPrefix).toBe("AGENTMUX_");
  });

  it("keys are shell variable names", () => {
    for (const key of ["A", "_", "_a1", "MY_VAR_2", "lower"])
      expect(problems({ "agent:env": { [key]: "v" } })).toEqual([]);
    for (const key of ["", "1A", "A-B", "A B", "A=B", "É", "A\0"]) {
      const [message] = problems({ "agent:env": { [key]: "v" } });
      expect(message).toBe(
        `agent:env: ${JSON.stringify(key)} is not a valid variable name (letters, digits and _, not starting with a digit)`,
      );
    }
  });

  it("refuses srv's own AGENTMUX_ variables, naming the key", () => {
    expect(problems({ "agent:env": { AGENTMUX_AUTHKEY: "x" } })).toEqual([
      `agent:env: "AGENTMUX_AUTHKEY" is reserved: variables starting with AGENTMUX_ are srv's own`,
    ]);
    expect(problems({ "agent:env": { AGENTMUX_: "x" } })).toHaveLength(1);
    // Only the exact prefix is srv's: other spellings are ordinary names.
    expect(problems({ "agent:env": { agentmux_x: "x", AGENTMUX: "x", MY_AGENTMUX_X: "x" } })).toEqual([]);
  });

  it("values are strings of at most 32 KiB (UTF-8 bytes) without NUL", () => {
    expect(problems({ "agent:env": { A: "x".repeat(maxValueBytes) } })).toEqual([]);
    expect(problems({ "agent:env": { A: "x".repeat(maxValueBytes + 1) } })).toEqual([
      `agent:env: "A" is longer than ${maxValueBytes} bytes`,
    ]);
    // 3 bytes per character: the limit is in bytes, not characters.
    expect(problems({ "agent:env": { A: "€".repeat(maxValueBytes / 2) } })).toEqual([
      `agent:env: "A" is longer than ${maxValueBytes} bytes`,
    ]);
    expect(problems({ "agent:env": { A: "€".repeat(Math.floor(maxValueBytes / 3)) } })).toEqual([]);
    // 4 bytes per surrogate pair.
    expect(problems({ "agent:env": { A: "🎉".repeat(maxValueBytes / 4) } })).toEqual([]);
    expect(problems({ "agent:env": { A: `${"🎉".repeat(maxValueBytes / 4)}x` } })).toHaveLength(1);
    expect(problems({ "agent:env": { A: "a\0b" } })).toEqual([`agent:env: "A" contains a NUL character`]);
    expect(problems({ "agent:env": { A: 1 } })).toEqual(["agent:env values must be strings"]);
    expect(problems({ "agent:env": ["A=1"] })).toEqual(["agent:env must be an object of strings"]);
  });

  it(`holds at most 256 variables`, () => {
    const env = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`V${i}`, "x"]));
    expect(problems({ "agent:env": env(maxKeys) })).toEqual([]);
    expect(problems({ "agent:env": env(maxKeys + 1) })).toEqual([
      `agent:env has ${maxKeys + 1} variables (at most 256)`,
    ]);
  });

  it("clips a huge key in the message", () => {
    const [message] = problems({ "agent:env": { [`AGENTMUX_${"X".repeat(10_000)}`]: "x" } });
    expect(message?.length).toBeLessThan(200);
  });
});
