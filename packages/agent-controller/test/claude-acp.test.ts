// A real ACP agent: Zed's Claude Code adapter (`@zed-industries/claude-agent-acp`, pinned in the
// testkit), driven by the ACP session, against the fake Messages API on loopback. Only the model
// server is fake.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  claudeAcpBinary,
  claudeAcpEnv,
  type FakeAnthropic,
  startFakeAnthropic,
  tempDir,
  until,
} from "@agentmux/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acp, createSession } from "../src/index.js";
import { acpSaid, closeAfterTest, collect, statusWhere } from "./helpers.js";

let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});

function session(options: { sessionId?: string; env?: Record<string, string>; cwd?: string } = {}) {
  const env = options.env ?? claudeAcpEnv(fake.url);
  const cwd = options.cwd ?? tempDir("agentmux-cwd-");
  const s = closeAfterTest(
    createSession({
      provider: acp({ name: "claude-acp", command: process.execPath, args: [claudeAcpBinary()] }),
      cwd,
      env,
      sessionId: options.sessionId ?? null,
      // This version does not exit when its stdin closes: the stop ladder's SIGTERM ends it.
      deadlines: { interruptMs: 2000, eofMs: 1000, termMs: 3000 },
    }),
  );
  return { s, env, cwd };
}

/** Every process whose environment has this HOME: the adapter, its Claude Code, what they run. */
function processesWithHome(home: string): number[] {
  const needle = `HOME=${home}\0`;
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, "latin1").includes(needle);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

describe("Zed's Claude Code ACP adapter with the real program", () => {
  it("streams a reply, asks before a tool (allowed: runs; denied: does not), and cancels", async () => {
    const { s, cwd } = session();
    const out = collect(s);
    s.send("reply hello over acp");
    const first = await statusWhere(
      s,
      (x) => x.sessionId !== null && !x.turnActive && acpSaid(out).includes("hello over acp"),
      90_000,
    );
    // The turn's tokens (the prompt's `usage`) and cost (what `usage_update`'s running total grew by).
    expect(first.lastTurn).toMatchObject({ input_tokens: 12, output_tokens: 7 });
    expect(first.lastTurn?.cost_usd).toBeGreaterThan(0);
    expect(first.usage.output_tokens).toBe(7);

    s.send("tool touch allowed.txt");
    const asking = await statusWhere(s, (x) => x.needsInput.length === 1, 60_000);
    s.respond(asking.needsInput[0]?.requestId as string, { behavior: "allow" });
    await until("the command to run", () => existsSync(join(cwd, "allowed.txt")), 30_000);
    await statusWhere(s, (x) => !x.turnActive && x.needsInput.length === 0, 30_000);

    s.send("tool touch denied.txt");
    const again = await statusWhere(s, (x) => x.needsInput.length === 1, 60_000);
    s.respond(again.needsInput[0]?.requestId as string, { behavior: "deny" });
    await statusWhere(s, (x) => !x.turnActive && x.needsInput.length === 0, 30_000);
    expect(existsSync(join(cwd, "denied.txt"))).toBe(false);

    s.send("slow 100");
    await until("a few chunks", () => acpSaid(out).includes("chunk2"), 60_000);
    expect(s.interrupt()).toBe(true);
    await statusWhere(s, (x) => !x.turnActive, 30_000);
    expect(acpSaid(out)).not.toContain("chunk99");
  }, 240_000);

  it("ten restarts that load the conversation leave no process behind", async () => {
    const env = claudeAcpEnv(fake.url);
    const cwd = tempDir("agentmux-cwd-");
    let sessionId: string | null = null;
    for (let i = 0; i < 10; i++) {
      const { s } = session({ env, cwd, ...(sessionId ? { sessionId } : {}) });
      const out = collect(s);
      s.send(`reply cycle ${i}`);
      await until(`cycle ${i}'s reply`, () => acpSaid(out).includes(`cycle ${i}`), 90_000);
      await statusWhere(s, (x) => !x.turnActive, 30_000);
      // While it runs, the check below sees it: the adapter and its Claude Code.
      expect(processesWithHome(env.HOME as string).length).toBeGreaterThanOrEqual(2);
      if (sessionId !== null) {
        expect(out.json().find((j) => j.subtype === "agentmux_session_outcome")).toMatchObject({ outcome: "resumed" });
        expect(s.sessionId).toBe(sessionId);
      }
      sessionId = s.sessionId;
      await s.stop();
      await until(`no process left after cycle ${i}`, () => processesWithHome(env.HOME as string).length === 0, 15_000);
    }
    // The last turn's request carried the whole conversation: every cycle was loaded.
    expect(JSON.stringify(fake.requests.at(-1)?.messages)).toContain("reply cycle 0");
  }, 600_000);
});
