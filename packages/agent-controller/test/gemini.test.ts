// The real Gemini CLI (pinned in the testkit) in ACP mode (`gemini --acp`), driven by the ACP
// session, against a fake Gemini API on loopback. Only the model server is fake.
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  type FakeGemini,
  geminiBinary,
  geminiEnv,
  isRunning,
  startFakeGemini,
  tempDir,
  until,
} from "@agentmux/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSession, gemini } from "../src/index.js";
import { mergeDeltas, normalize } from "../src/transcript/index.js";
import { acpSaid, closeAfterTest, collect, statusWhere } from "./helpers.js";

let fake: FakeGemini;
beforeAll(async () => {
  fake = await startFakeGemini();
});
afterAll(async () => {
  await fake.close();
});

function session(options: { sessionId?: string; env?: Record<string, string>; cwd?: string } = {}) {
  const env = options.env ?? geminiEnv(fake.url);
  const cwd = options.cwd ?? tempDir("agentmux-cwd-");
  const s = closeAfterTest(
    createSession({
      // The CLI is a Node program: run with this Node (the provider's argv follows it).
      provider: { ...gemini(), args: () => [geminiBinary(), ...gemini().args()] },
      command: process.execPath,
      cwd,
      env,
      sessionId: options.sessionId ?? null,
      deadlines: { interruptMs: 2000, eofMs: 5000, termMs: 2000 },
    }),
  );
  return { s, env, cwd };
}

/** The agent's message text so far, joined. */

describe("gemini (ACP mode) with the real CLI", () => {
  it("opens a session on the first turn and keeps one process across two turns", async () => {
    const { s } = session();
    const out = collect(s);
    s.send("reply hello from gemini");
    const first = await statusWhere(s, (x) => x.sessionId !== null && !x.turnActive && acpSaid(out) !== "", 60_000);
    expect(acpSaid(out)).toBe("hello from gemini");
    // The turn's tokens, from the answer's `_meta.quota.token_count` (gemini reports no cost).
    expect(first.lastTurn).toMatchObject({ input_tokens: 12, output_tokens: 7, cost_usd: 0 });
    const pid = first.pid;
    s.send("reply and again");
    await until("the second reply", () => acpSaid(out).endsWith("and again"), 30_000);
    await statusWhere(s, (x) => !x.turnActive);
    expect(s.status.pid).toBe(pid);
    expect(s.sessionId).toBe(first.sessionId);
    // Both turns reached the model, the second with the first in its history.
    expect(JSON.stringify(fake.requests.at(-1)?.contents)).toContain("reply hello from gemini");
    // The transcript model reads the real lines: every one understood, the two replies whole.
    const events = out.lines.flatMap((l) => normalize("gemini", l.data.toString("utf8")));
    expect(events.filter((e) => e.type === "unknown")).toEqual([]);
    const texts = mergeDeltas(events).flatMap((e) => (e.type === "text" ? [e.text] : []));
    expect(texts).toEqual(["hello from gemini", "and again"]);
  }, 90_000);

  it("asks before it runs a shell command: allowed, it runs; denied, it does not", async () => {
    const { s, cwd } = session();
    s.send("tool touch allowed.txt");
    const asking = await statusWhere(s, (x) => x.needsInput.length === 1, 60_000);
    expect(asking.needsInput[0]?.tool).toBeTruthy();
    s.respond(asking.needsInput[0]?.requestId as string, { behavior: "allow" });
    await statusWhere(s, (x) => !x.turnActive && x.needsInput.length === 0, 30_000);
    expect(existsSync(join(cwd, "allowed.txt"))).toBe(true);
    s.send("tool touch denied.txt");
    const again = await statusWhere(s, (x) => x.needsInput.length === 1, 30_000);
    s.respond(again.needsInput[0]?.requestId as string, { behavior: "deny" });
    await statusWhere(s, (x) => !x.turnActive && x.needsInput.length === 0, 30_000);
    expect(existsSync(join(cwd, "denied.txt"))).toBe(false);
  }, 120_000);

  it("interrupts a streaming turn (session/cancel) and keeps the process for the next turn", async () => {
    const { s } = session();
    const out = collect(s);
    s.send("slow 100");
    await until("a few chunks", () => s.status.turnActive && acpSaid(out).includes("chunk2"), 60_000);
    const pid = s.status.pid;
    expect(s.interrupt()).toBe(true);
    await statusWhere(s, (x) => !x.turnActive, 30_000);
    const stop = out.json().find((j) => (j as { result?: { stopReason?: string } }).result?.stopReason);
    expect(stop).toMatchObject({ result: { stopReason: "cancelled" } });
    expect(acpSaid(out)).not.toContain("chunk99");
    s.send("reply still here");
    await until("the next reply", () => acpSaid(out).endsWith("still here"), 30_000);
    expect(s.status.pid).toBe(pid);
  }, 120_000);

  it("in a new process, asks to load the conversation (session/load); this CLI version cannot, and the session says it started fresh", async () => {
    // Gemini CLI 0.61.0 answers session/load, for a session it recorded itself, with "No previous
    // sessions found for this project." (its own --list-sessions does not list sessions written
    // in ACP mode either). The session falls back to a fresh conversation and records that in
    // the transcript, so a person can see the history was not carried over.
    const { s, env, cwd } = session();
    s.send("reply remember the number 42");
    const { sessionId } = await statusWhere(
      s,
      (x) => x.sessionId !== null && !x.turnActive && x.status === "running",
      60_000,
    );
    expect(await s.stop()).toBe("exited");

    const { s: again } = session({ sessionId: sessionId as string, env, cwd });
    const out = collect(again);
    again.send("reply back again");
    await until("the reply in the new process", () => acpSaid(out).endsWith("back again"), 60_000);
    const refusal = out.json().find((j) => "error" in j && j.id !== undefined);
    expect(JSON.stringify(refusal)).toContain("No previous sessions found for this project.");
    expect(out.json().find((j) => j.subtype === "agentmux_session_outcome")).toMatchObject({
      outcome: "fresh",
      attempted_sid: sessionId,
    });
    expect(again.sessionId).not.toBe(sessionId);
  }, 120_000);

  it("classifies a 429 from the model server as a rate limit, once the CLI stops retrying", async () => {
    // Gemini retries a 429 silently (by default 10 attempts, 5 to 30 s apart, nothing on the
    // wire or stderr meanwhile): with one attempt, the refusal reaches the prompt at once.
    const { s } = session({ env: geminiEnv(fake.url, { general: { maxAttempts: 1 } }) });
    s.send("error 429");
    const limited = await statusWhere(s, (x) => x.fault !== null && !x.turnActive, 60_000);
    expect(limited.fault).toMatchObject({ kind: "rate_limit" });
  }, 90_000);

  it("SIGKILL mid-turn: done with the exit code, no process left, and the next send starts a new process that answers", async () => {
    const { s } = session();
    const out = collect(s);
    s.send("reply first");
    const first = await statusWhere(s, (x) => x.sessionId !== null && !x.turnActive && acpSaid(out) !== "", 60_000);
    s.send("slow 100");
    await until("the slow turn streaming", () => acpSaid(out).includes("chunk1"), 60_000);
    const pid = s.status.pid as number;
    process.kill(pid, "SIGKILL");
    const dead = await statusWhere(s, (x) => x.status === "done", 30_000);
    expect(dead.exitCode).toBe(137);
    expect(dead.turnActive).toBe(false);
    expect(isRunning(pid)).toBe(false);
    s.send("reply back");
    await until("the reply after the crash", () => acpSaid(out).endsWith("back"), 60_000);
    expect(s.status.pid).not.toBe(pid);
    // It asked to load the conversation first (which this CLI version cannot; see above).
    expect(out.json().find((j) => j.subtype === "agentmux_session_outcome")).toMatchObject({
      attempted_sid: first.sessionId,
    });
  }, 120_000);
});
