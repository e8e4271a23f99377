// The agent verbs against a real srv started by `agentmux start --detach`, driving the real
// Claude Code CLI against a fake Messages API (the only fake: the model server).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { claudeBinary, claudeEnv, type FakeAnthropic, startFakeAnthropic, tempDir, until } from "@agentmux/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentmux } from "./helpers.js";

let fake: FakeAnthropic;
let dataDir: string;
let env: Record<string, string>;

/** Runs a verb to its end; resolves with its exit code and output. */
async function verb(args: string[]) {
  const l = agentmux(args, { dataDir, env });
  const code = await l.exit;
  return { code, stdout: l.stdout(), stderr: l.stderr() };
}

beforeAll(async () => {
  fake = await startFakeAnthropic();
  dataDir = join(tempDir(), "data");
  env = { ...claudeEnv(fake.url) } as Record<string, string>;
  const started = await verb(["start", "--detach"]);
  expect(started.code).toBe(0);
  expect(started.stdout).toContain("stop it with: agentmux stop");
}, 60_000);

afterAll(async () => {
  await verb(["stop"]);
  await fake.close();
});

describe("agentmux agent …", () => {
  it("new, send (the reply as readable text, then the turn's cost), ls, logs (readable, --raw, --json)", async () => {
    const cwd = tempDir();
    const created = await verb([
      "agent",
      "new",
      "claude",
      "--name",
      "alice",
      "--cwd",
      cwd,
      "--command",
      claudeBinary(),
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("agent alice created");
    const sent = await verb(["agent", "send", "alice", "reply hello from the model"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain("hello from the model");
    expect(sent.stdout).toMatch(/turn done: .* in \/ .* out/);
    const ls = await verb(["agent", "ls"]);
    expect(ls.stdout).toMatch(/alice\s+claude\s+idle/);
    const lsJson = JSON.parse((await verb(["--json", "agent", "ls"])).stdout) as { name: string; sessionId: string }[];
    expect(lsJson[0]).toMatchObject({ name: "alice" });
    expect(lsJson[0]?.sessionId).toBeTruthy();
    const logs = await verb(["agent", "logs", "alice"]);
    expect(logs.stdout).toContain("hello from the model");
    const raw = await verb(["agent", "logs", "alice", "--raw"]);
    const stored = raw.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type?: string });
    expect(stored.some((l) => l.type === "result")).toBe(true);
    const json = await verb(["--json", "agent", "logs", "alice"]);
    const events = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind?: string; type?: string });
    expect(events.length).toBeGreaterThan(1);
  }, 90_000);

  it("logs -f prints what the agent writes next", async () => {
    const follow = agentmux(["agent", "logs", "alice", "-f"], { dataDir, env });
    await until("the backlog", () => follow.stdout().includes("hello from the model"), 20_000);
    expect((await verb(["agent", "send", "alice", "reply second answer", "--no-wait"])).code).toBe(0);
    await until("the live reply", () => follow.stdout().includes("second answer"), 30_000);
    follow.child.kill("SIGINT");
    expect(await follow.exit).toBe(0);
  }, 60_000);

  it("bad input: an unknown agent (1), a bad provider (2), a missing argument (2), srv not running (3)", async () => {
    const unknown = await verb(["agent", "send", "nobody", "hi"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no agent named "nobody"');
    const provider = await verb(["agent", "new", "clippy", "--name", "x"]);
    expect(provider.code).toBe(2);
    expect(provider.stderr).toContain('unknown provider "clippy"');
    const missing = await verb(["agent", "new", "claude"]);
    expect(missing.code).toBe(2);
    const elsewhere = agentmux(["agent", "ls"], { dataDir: join(tempDir(), "none"), env });
    expect(await elsewhere.exit).toBe(3);
    expect(elsewhere.stderr()).toContain("start it with: agentmux start --detach");
    const dup = await verb(["agent", "new", "claude", "--name", "alice"]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('an agent named "alice" already exists');
  }, 60_000);

  it("stop and rm", async () => {
    expect((await verb(["agent", "stop", "alice"])).code).toBe(0);
    const ls = await verb(["agent", "ls"]);
    expect(ls.stdout).toMatch(/alice\s+claude\s+stopped/);
    expect((await verb(["agent", "rm", "alice"])).code).toBe(0);
    expect((await verb(["agent", "ls"])).stdout).toContain("no agents yet");
    expect(readFileSync(join(dataDir, "launcher", "run.json"), "utf8")).toContain("launcher_pid");
  }, 60_000);
});
