// The codex adapter (`codex exec --json`, one process per turn) driving the real Codex CLI
// (pinned in the testkit) against a fake Responses API on loopback. Only the model server is fake.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { codexBinary, codexEnv, type FakeOpenAI, isRunning, startFakeOpenAI, tempDir, until } from "@agentmux/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codex, createSession } from "../src/index.js";
import { mergeDeltas, normalize } from "../src/transcript/index.js";
import { closeAfterTest, collect, statusWhere } from "./helpers.js";

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

function session(options: { sessionId?: string; env?: Record<string, string>; cwd?: string } = {}) {
  const env = options.env ?? codexEnv(fake.url);
  const cwd = options.cwd ?? tempDir("agentmux-cwd-");
  const s = closeAfterTest(
    createSession({
      // A temp dir is no git repository: codex refuses one unless told.
      provider: codex({ extraArgs: ["--skip-git-repo-check"] }),
      command: codexBinary(),
      cwd,
      env,
      sessionId: options.sessionId ?? null,
      deadlines: { interruptMs: 2000, eofMs: 3000, termMs: 2000 },
    }),
  );
  return { s, env, cwd };
}

const texts = (out: ReturnType<typeof collect>) =>
  mergeDeltas(out.lines.flatMap((l) => normalize("codex", l.data.toString("utf8")))).flatMap((e) =>
    e.type === "text" ? [e.text] : [],
  );

describe("codex with the real CLI", () => {
  it("a thread on the first turn, continued by the second (exec resume); usage and the transcript model", async () => {
    const { s } = session();
    const out = collect(s);
    s.send("reply hello from codex");
    const first = await statusWhere(s, (x) => x.sessionId !== null && !x.turnActive && texts(out).length === 1, 60_000);
    expect(texts(out)).toEqual(["hello from codex"]);
    expect(first.lastTurn).toMatchObject({ input_tokens: 12, output_tokens: 7 });
    s.send("reply and again");
    await statusWhere(s, (x) => !x.turnActive && texts(out).length === 2, 60_000);
    expect(s.sessionId).toBe(first.sessionId);
    // The second request carried the first turn: the thread was resumed, not started over.
    expect(JSON.stringify(fake.requests.at(-1)?.input)).toContain("reply hello from codex");
    expect(
      out.lines.flatMap((l) => normalize("codex", l.data.toString("utf8"))).filter((e) => e.type === "unknown"),
    ).toEqual([]);
  }, 120_000);

  it("runs a shell command the model asks for", async () => {
    const { s, cwd } = session();
    s.send("tool touch ran.txt");
    await statusWhere(s, (x) => x.sessionId !== null && !x.turnActive, 60_000);
    expect(existsSync(join(cwd, "ran.txt"))).toBe(true);
  }, 120_000);

  it("interrupts a streaming turn: SIGINT ends it, no reply is kept, no process is left", async () => {
    const { s } = session();
    const out = collect(s);
    const asked = fake.requests.length;
    s.send("slow 100"); // 100 chunks 200 ms apart: 20 s unless interrupted
    await until("the turn at the model", () => fake.requests.length > asked && s.status.pid !== null, 60_000);
    const pid = s.status.pid as number;
    expect(s.interrupt()).toBe(true);
    await statusWhere(s, (x) => !x.turnActive, 10_000);
    expect(isRunning(pid)).toBe(false);
    // codex writes a reply only once it is whole: an interrupted one never appears.
    expect(texts(out).join("")).not.toContain("chunk99");
  }, 120_000);

  it("classifies a 429 as a rate limit", async () => {
    const { s } = session();
    s.send("error 429");
    const limited = await statusWhere(s, (x) => x.fault !== null && !x.turnActive, 60_000);
    expect(limited.fault).toMatchObject({ kind: "rate_limit" });
  }, 120_000);

  it("SIGKILL mid-turn: no process left, and the next send resumes the same thread", async () => {
    const { s } = session();
    s.send("reply first");
    const first = await statusWhere(s, (x) => x.sessionId !== null && !x.turnActive, 60_000);
    const asked = fake.requests.length;
    s.send("slow 100");
    await until("the slow turn at the model", () => fake.requests.length > asked && s.status.pid !== null, 60_000);
    const pid = s.status.pid as number;
    process.kill(pid, "SIGKILL");
    const dead = await statusWhere(s, (x) => x.status === "done" && !x.turnActive, 30_000);
    expect(dead.exitCode).toBe(137);
    expect(isRunning(pid)).toBe(false);
    const out = collect(s);
    s.send("reply back");
    await until("the reply after the crash", () => texts(out).includes("back"), 60_000);
    expect(s.sessionId).toBe(first.sessionId);
    expect(JSON.stringify(fake.requests.at(-1)?.input)).toContain("reply first");
  }, 120_000);
});
