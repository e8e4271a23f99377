// The transcript model understands what the real programs print today: the pinned Claude Code,
// Codex and Gemini CLIs and Zed's Claude Code ACP adapter against the testkit's fake model servers,
// and the testkit's ACP stand-in agent, each run through text, tools allowed and denied, API
// errors, retries and interrupts; no line of theirs may come out as an `unknown` event. With
// AGENTMUX_CAPTURE_TRANSCRIPTS=1 the same runs also rewrite test/fixtures/transcripts/*.ndjson
// (the checked-in evidence the unit tests read).
import { writeFileSync } from "node:fs";
import {
  claudeAcpBinary,
  claudeAcpEnv,
  claudeBinary,
  claudeEnv,
  codexBinary,
  codexEnv,
  type FakeAnthropic,
  type FakeGemini,
  type FakeOpenAI,
  geminiBinary,
  geminiEnv,
  standIn,
  startFakeAnthropic,
  startFakeGemini,
  startFakeOpenAI,
  tempDir,
  until,
} from "@agentmux/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acp, claude, codex, createSession, gemini, type Session } from "../src/index.js";
import { normalizeChunk } from "../src/transcript/index.js";
import { acpSaid, closeAfterTest, collect, statusWhere } from "./helpers.js";

const capture = process.env.AGENTMUX_CAPTURE_TRANSCRIPTS === "1";
const fixture = (name: string) => new URL(`fixtures/transcripts/${name}`, import.meta.url);

function text(out: ReturnType<typeof collect>): string {
  return out.lines.map((l) => l.data.toString("utf8")).join("");
}

/** The number of lines of `type` in the transcript so far. */
function count(out: ReturnType<typeof collect>, type: string): number {
  return out.json().filter((j) => j.type === type).length;
}

/** Waits until the transcript holds `n` result lines and the turn is over. */
async function results(s: Session, out: ReturnType<typeof collect>, n: number): Promise<void> {
  await until(`result #${n}`, () => count(out, "result") >= n && !s.status.turnActive, 30_000);
}

/** Checks that every line normalizes to known events, and keeps the lines as a fixture when asked. */
function understood(provider: "claude" | "codex" | "gemini" | "acp", name: string, lines: string): void {
  const unknown = normalizeChunk(provider, lines, { final: true }).events.filter((e) => e.type === "unknown");
  expect(unknown).toEqual([]);
  if (capture) writeFileSync(fixture(name), lines);
}

/** An ACP agent through a reply, a shell command asked for and allowed, and a cancelled prompt; its transcript. */
async function acpScenario(s: Session): Promise<ReturnType<typeof collect>> {
  const out = collect(s);
  s.send("reply hello from the fake model");
  await until("turn 1", () => acpSaid(out).includes("hello from the fake model") && !s.status.turnActive, 90_000);
  s.send("tool touch from-a-tool.txt");
  const asking = await statusWhere(s, (st) => st.needsInput.length === 1, 60_000);
  s.respond(asking.needsInput[0]?.requestId as string, { behavior: "allow" });
  await until("turn 2", () => acpSaid(out).includes("done") && !s.status.turnActive, 60_000);
  s.send("slow 100");
  await until("three chunks", () => acpSaid(out).includes("chunk2"), 60_000);
  s.interrupt();
  await statusWhere(s, (st) => !st.turnActive, 30_000);
  await s.stop();
  return out;
}

describe("real transcripts are understood", () => {
  let fake: FakeAnthropic;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterAll(async () => {
    await fake.close();
  });

  it("claude: text, a tool allowed and denied, an API error, an interrupt", async () => {
    const s = closeAfterTest(
      createSession({
        provider: claude(),
        command: claudeBinary(),
        cwd: tempDir("agentmux-cwd-"),
        env: claudeEnv(fake.url),
      }),
    );
    const out = collect(s);
    s.send("reply hello from the fake model");
    await results(s, out, 1);
    s.send("tool touch one.txt");
    const asking = await statusWhere(s, (st) => st.needsInput.length > 0);
    s.respond(asking.needsInput[0]?.requestId as string, { behavior: "allow" });
    await results(s, out, 2);
    s.send("tool touch two.txt");
    const again = await statusWhere(s, (st) => st.needsInput.length > 0);
    s.respond(again.needsInput[0]?.requestId as string, { behavior: "deny", message: "not today" });
    await results(s, out, 3);
    s.send("error 400");
    await results(s, out, 4);
    s.send("slow 40");
    // The model has begun its 8 s answer: interrupt it midway.
    await until("the model streaming", () => fake.requests.some((r) => JSON.stringify(r).includes("slow 40")));
    await until("the turn", () => s.status.turnActive);
    s.interrupt();
    await results(s, out, 5);
    await s.stop();
    understood("claude", "claude.ndjson", text(out));
  });

  it("claude with partial messages, resumed, and an API retry", async () => {
    const env = claudeEnv(fake.url);
    const cwd = tempDir("agentmux-cwd-");
    const first = closeAfterTest(
      createSession({ provider: claude({ partialMessages: true }), command: claudeBinary(), cwd, env }),
    );
    const out1 = collect(first);
    first.send("reply streamed words");
    await results(first, out1, 1);
    const sessionId = first.sessionId;
    await first.stop();
    const second = closeAfterTest(createSession({ provider: claude(), command: claudeBinary(), cwd, env, sessionId }));
    const out2 = collect(second);
    second.send("reply again");
    await results(second, out2, 1);
    second.send("error 429");
    await until("a retry", () => text(out2).includes("api_retry"));
    await second.stop({ force: true });
    understood("claude", "claude-partial.ndjson", text(out1));
    understood("claude", "claude-resume-retry.ndjson", text(out2));
  });

  it("acp: handshake, echo, a permission request, a cancelled prompt", async () => {
    const s = closeAfterTest(
      createSession({
        provider: acp({ command: process.execPath, args: [standIn("acp-agent")] }),
        cwd: tempDir("agentmux-acp-"),
        env: { PATH: process.env.PATH },
      }),
    );
    const out = collect(s);
    const stopped = (n: number) => () =>
      !s.status.turnActive &&
      out.json().filter((j) => (j as { result?: { stopReason?: string } }).result?.stopReason).length >= n;
    s.send("hello");
    await until("turn 1", stopped(1));
    s.send("perm");
    const asking = await statusWhere(s, (st) => st.needsInput.length === 1);
    s.respond(asking.needsInput[0]?.requestId as string, { behavior: "allow" });
    await until("turn 2", stopped(2));
    s.send("slow");
    await until("three chunks", () => text(out).includes("chunk2 "));
    s.interrupt();
    await until("turn 3", stopped(3));
    await s.stop();
    understood("acp", "acp.ndjson", text(out));
  });

  it("codex: text, a shell command, an interrupt, a 429", async () => {
    const openai: FakeOpenAI = await startFakeOpenAI();
    try {
      const s = closeAfterTest(
        createSession({
          provider: codex({ extraArgs: ["--skip-git-repo-check"] }),
          command: codexBinary(),
          cwd: tempDir("agentmux-cwd-"),
          env: codexEnv(openai.url),
        }),
      );
      const out = collect(s);
      const turns = (n: number) => () =>
        count(out, "turn.completed") + count(out, "turn.failed") >= n && !s.status.turnActive;
      s.send("reply hello from the fake model");
      await until("turn 1", turns(1), 60_000);
      s.send("tool echo from-a-tool");
      await until("turn 2", turns(2), 60_000);
      s.send("slow 100");
      await until(
        "the model streaming",
        () => openai.requests.some((r) => JSON.stringify(r.input).includes("slow 100")),
        60_000,
      );
      s.interrupt();
      await statusWhere(s, (st) => !st.turnActive, 30_000);
      s.send("error 429");
      await until("the refusal", () => !s.status.turnActive && s.status.fault !== null, 60_000);
      understood("codex", "codex-real.ndjson", text(out));
    } finally {
      await openai.close();
    }
  }, 120_000);

  it("gemini (ACP): text, a shell command allowed, a cancelled prompt", async () => {
    const google: FakeGemini = await startFakeGemini();
    try {
      const s = closeAfterTest(
        createSession({
          provider: { ...gemini(), args: () => [geminiBinary(), ...gemini().args()] },
          command: process.execPath,
          cwd: tempDir("agentmux-cwd-"),
          env: geminiEnv(google.url),
        }),
      );
      const out = await acpScenario(s);
      understood("gemini", "gemini-acp.ndjson", text(out));
    } finally {
      await google.close();
    }
  }, 120_000);

  it("claude through Zed's ACP adapter: text, a shell command allowed, a cancelled prompt", async () => {
    const anthropic = await startFakeAnthropic();
    try {
      const s = closeAfterTest(
        createSession({
          provider: acp({ name: "claude-acp", command: process.execPath, args: [claudeAcpBinary()] }),
          cwd: tempDir("agentmux-cwd-"),
          env: claudeAcpEnv(anthropic.url),
          deadlines: { interruptMs: 2000, eofMs: 1000, termMs: 3000 },
        }),
      );
      const out = await acpScenario(s);
      understood("acp", "claude-acp.ndjson", text(out));
    } finally {
      await anthropic.close();
    }
  }, 180_000);
});
