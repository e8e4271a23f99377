// The claude adapter driving the real Claude Code CLI (pinned dev dependency) against a fake
// Messages API on loopback. Only the model server is fake.
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  claudeBinary,
  claudeEnv,
  type FakeAnthropic,
  isRunning,
  startFakeAnthropic,
  tempDir,
  until,
} from "@agentmux/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConversationClaims, claude, createSession, SessionHeldError } from "../src/index.js";
import { closeAfterTest, collect, statusWhere } from "./helpers.js";

let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});

function session(
  options: { sessionId?: string; env?: Record<string, string>; cwd?: string; claims?: ConversationClaims } = {},
) {
  const env = options.env ?? claudeEnv(fake.url);
  const s = closeAfterTest(
    createSession({
      provider: claude(),
      command: claudeBinary(),
      cwd: options.cwd ?? tempDir("agentmux-cwd-"),
      env,
      sessionId: options.sessionId ?? null,
      claims: options.claims,
      deadlines: { interruptMs: 2000, eofMs: 5000, termMs: 2000 },
    }),
  );
  return { s, env };
}

const idle = (s: { status: string; turnActive: boolean }) => s.status === "running" && !s.turnActive;

describe("claude adapter with the real CLI", () => {
  it("captures the session id from init and keeps one process across two turns", async () => {
    const { s } = session();
    const out = collect(s);
    s.send("reply hello");
    const first = await statusWhere(s, (st) => st.sessionId !== null && idle(st) && st.lastTurn !== null);
    expect(first.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const pid = first.pid;
    expect(pid).not.toBeNull();
    expect(first.pidStartTime).not.toBeNull();
    s.send("reply world");
    const second = await statusWhere(s, (st) => idle(st) && st.usage.output_tokens > first.usage.output_tokens);
    expect(second.pid).toBe(pid);
    expect(second.sessionId).toBe(first.sessionId);
    // Usage: tokens summed per turn, cost from the CLI's running total.
    expect(second.usage.input_tokens).toBe(24);
    expect(second.usage.cost_usd).toBeGreaterThan(first.usage.cost_usd);
    const texts = out
      .json()
      .filter((j) => j.type === "assistant")
      .map((j) => JSON.stringify(j.message));
    expect(texts.join()).toContain('"hello"');
    expect(texts.join()).toContain('"world"');
    // Offsets are contiguous byte positions.
    let at = 0;
    for (const line of out.lines) {
      expect(line.offset).toBe(at);
      at += line.data.length;
    }
    expect(s.transcriptOffset).toBe(at);
    expect(await s.stop()).toBe("exited");
    expect(s.status.status).toBe("done");
    expect(s.status.exitCode).toBe(0);
  });

  it("interrupts a turn mid-stream and keeps the process for the next turn", async () => {
    const { s } = session();
    const out = collect(s);
    s.send("slow 40");
    await statusWhere(s, (st) => st.turnActive && out.json().some((j) => j.type === "system" && j.subtype === "init"));
    const pid = s.status.pid;
    expect(s.interrupt()).toBe(true);
    const after = await statusWhere(s, (st) => !st.turnActive);
    expect(after.pid).toBe(pid);
    // The stream was cut short: far fewer than 40 chunks reached the transcript.
    expect(out.lines.map((l) => l.data.toString()).join("")).not.toContain("chunk39");
    s.send("reply after");
    await statusWhere(s, (st) => idle(st) && out.json().some((j) => JSON.stringify(j).includes('"text":"after"')));
    expect(s.status.pid).toBe(pid);
  });

  it("resumes the conversation in a new process with --resume (same session id)", async () => {
    const { s, env } = session();
    s.send("reply remember-me");
    const { sessionId } = await statusWhere(s, (st) => st.lastTurn !== null && !st.turnActive);
    expect(await s.stop()).toBe("exited");

    const { s: again } = session({ sessionId: sessionId as string, env, cwd: undefined });
    const out = collect(again);
    again.send("reply second");
    await statusWhere(again, (st) => st.lastTurn !== null && !st.turnActive);
    expect(again.sessionId).toBe(sessionId);
    const outcome = out.json().find((j) => j.subtype === "agentmux_session_outcome");
    expect(outcome).toMatchObject({ outcome: "resumed", attempted_sid: sessionId, actual_sid: sessionId });
    // The model saw the earlier turn: the history came back with the resume.
    const last = JSON.stringify(fake.requests.at(-1)?.messages);
    expect(last).toContain("remember-me");
  });

  it("retries a stale resume once, fresh, with the same message", async () => {
    const stale = "11111111-1111-4111-8111-111111111111";
    const { s } = session({ sessionId: stale });
    const out = collect(s);
    s.send("reply fresh-start");
    const done = await statusWhere(s, (st) => !st.turnActive && st.sessionId !== null && st.sessionId !== stale);
    expect(done.fault).toBeNull();
    expect(done.status).toBe("running");
    const outcome = out.json().find((j) => j.subtype === "agentmux_session_outcome");
    expect(outcome).toMatchObject({ outcome: "fresh", attempted_sid: stale, actual_sid: done.sessionId });
    expect(JSON.stringify(out.json())).toContain('"text":"fresh-start"');
  });

  it("asks for permission and runs the tool when allowed", async () => {
    const cwd = tempDir("agentmux-cwd-");
    const { s } = session({ cwd });
    s.send("tool touch allowed.txt");
    const asking = await statusWhere(s, (st) => st.needsInput.length > 0);
    expect(asking.needsInput[0]).toMatchObject({ tool: "Bash", input: { command: "touch allowed.txt" } });
    expect(existsSync(join(cwd, "allowed.txt"))).toBe(false);
    expect(s.respond(asking.needsInput[0]?.requestId as string, { behavior: "allow" })).toBe(true);
    await statusWhere(s, (st) => !st.turnActive && st.lastTurn !== null);
    expect(s.status.needsInput).toEqual([]);
    expect(existsSync(join(cwd, "allowed.txt"))).toBe(true);
  });

  it("does not run the tool when denied", async () => {
    const cwd = tempDir("agentmux-cwd-");
    const { s } = session({ cwd });
    const out = collect(s);
    s.send("tool touch denied.txt");
    const asking = await statusWhere(s, (st) => st.needsInput.length > 0);
    expect(s.respond(asking.needsInput[0]?.requestId as string, { behavior: "deny", message: "not today" })).toBe(true);
    await statusWhere(s, (st) => !st.turnActive && st.lastTurn !== null);
    expect(existsSync(join(cwd, "denied.txt"))).toBe(false);
    const result = out.json().find((j) => j.type === "result") as { permission_denials?: unknown[] };
    expect(result.permission_denials?.length).toBe(1);
    // Control frames are protocol, not transcript.
    expect(out.json().some((j) => String(j.type).startsWith("control_"))).toBe(false);
  });

  it("classifies a rate limit while the CLI retries, and a bad request as fatal", async () => {
    const { s } = session();
    s.send("error 429");
    const limited = await statusWhere(s, (st) => st.fault !== null);
    expect(limited.fault).toMatchObject({ kind: "rate_limit", fatal: false });
    expect(limited.turnActive).toBe(true);
    expect(await s.stop()).not.toBe("not_running");

    const { s: bad } = session();
    bad.send("error 400");
    const failed = await statusWhere(bad, (st) => st.fault !== null && !st.turnActive);
    expect(failed.fault).toMatchObject({ kind: "error", fatal: true });
  });

  it("SIGKILL mid-turn: done with the exit code, and the next send resumes the same session", async () => {
    const { s } = session();
    const out = collect(s);
    s.send("reply first");
    await statusWhere(s, (st) => st.lastTurn !== null && !st.turnActive);
    const asked = fake.requests.length;
    s.send("slow 100");
    // Mid-turn: the model is streaming its answer.
    await until("the slow turn", () => fake.requests.length > asked && s.status.turnActive, 20_000);
    const running = s.status;
    const pid = running.pid as number;
    process.kill(pid, "SIGKILL");
    const dead = await statusWhere(s, (st) => st.status === "done");
    expect(dead.exitCode).toBe(137);
    expect(dead.turnActive).toBe(false);
    expect(dead.pid).toBeNull();
    expect(isRunning(pid)).toBe(false);
    s.send("reply back");
    const back = await statusWhere(
      s,
      (st) =>
        st.status === "running" && !st.turnActive && st.lastTurn?.output_tokens === 7 && st.usage.input_tokens === 24,
    );
    expect(back.fault).toBeNull();
    expect(back.pid).not.toBe(pid);
    expect(back.sessionId).toBe(running.sessionId);
    expect(out.json().find((j) => j.subtype === "agentmux_session_outcome")).toMatchObject({ outcome: "resumed" });
    expect(JSON.stringify(fake.requests.at(-1)?.messages)).toContain("reply first");
  });

  it("refuses a second live process for the same conversation", async () => {
    const claims = new ConversationClaims();
    const { s, env } = session({ claims });
    s.send("reply one");
    const { sessionId } = await statusWhere(s, (st) => st.lastTurn !== null && !st.turnActive);
    const { s: twin } = session({ sessionId: sessionId as string, env, claims });
    expect(() => twin.send("reply two")).toThrow(SessionHeldError);
    expect(twin.status.status).toBe("init");
    expect(twin.status.pid).toBeNull();
  });
});
