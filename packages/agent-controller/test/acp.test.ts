// The ACP session against a conformant ACP v1 agent (built on the official SDK) as a real child.
import { standIn, tempDir, until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { acp, createSession } from "../src/index.js";
import { closeAfterTest, collect, statusWhere } from "./helpers.js";

function session(cwd = tempDir("agentmux-acp-"), sessionId: string | null = null) {
  // The testkit's ACP stand-in (it keeps its sessions in a file in its cwd).
  const s = closeAfterTest(
    createSession({
      provider: acp({ command: process.execPath, args: [standIn("acp-agent")] }),
      cwd,
      env: { PATH: process.env.PATH },
      sessionId,
      deadlines: { interruptMs: 500, eofMs: 1000, termMs: 1000 },
    }),
  );
  return { s, cwd };
}

const chunks = (out: ReturnType<typeof collect>) =>
  out
    .json()
    .filter((j) => j.method === "session/update")
    .map((j) => (j as { params: { update: { content: { text: string } } } }).params.update.content.text);

describe("ACP session", () => {
  it("initializes, opens a session, and prompts with streamed updates", async () => {
    const { s } = session();
    const out = collect(s);
    s.send("hello");
    const st = await statusWhere(s, (x) => x.sessionId !== null && !x.turnActive && chunks(out).length > 0);
    expect(st.sessionId).toMatch(/^acp-/);
    expect(chunks(out)).toEqual(["echo:hello"]);
    // The transcript holds the protocol lines: the initialize answer among them.
    expect(out.json().some((j) => (j as { result?: { protocolVersion?: number } }).result?.protocolVersion === 1)).toBe(
      true,
    );
    s.send("again");
    await until("the second answer", () => chunks(out).length === 2, 20_000);
    expect(chunks(out)).toEqual(["echo:hello", "echo:again"]);
  });

  it("surfaces a permission request and answers it (allow, then deny)", async () => {
    const { s } = session();
    const out = collect(s);
    s.send("perm");
    const asking = await statusWhere(s, (x) => x.needsInput.length === 1);
    expect(asking.needsInput[0]).toMatchObject({ tool: "write_file", input: { path: "x.txt" } });
    s.respond(asking.needsInput[0]?.requestId as string, { behavior: "allow" });
    await statusWhere(s, (x) => !x.turnActive && x.needsInput.length === 0);
    s.send("perm");
    const again = await statusWhere(s, (x) => x.needsInput.length === 1);
    s.respond(again.needsInput[0]?.requestId as string, { behavior: "deny" });
    await until("the second answer", () => chunks(out).length === 2, 20_000);
    expect(chunks(out)).toEqual(["permission:yes", "permission:no"]);
  });

  it("cancels a running prompt", async () => {
    const { s } = session();
    const out = collect(s);
    s.send("slow");
    await until("three chunks", () => s.status.turnActive && chunks(out).length >= 3, 20_000);
    expect(s.interrupt()).toBe(true);
    await statusWhere(s, (x) => !x.turnActive);
    const stop = out.json().find((j) => (j as { result?: { stopReason?: string } }).result?.stopReason);
    expect(stop).toMatchObject({ result: { stopReason: "cancelled" } });
    expect(chunks(out).length).toBeLessThan(100);
  });

  it("resumes with session/load in a new process, or starts fresh when the agent does not know the id", async () => {
    const { s, cwd } = session();
    s.send("one");
    const { sessionId } = await statusWhere(s, (x) => x.sessionId !== null && !x.turnActive && x.status === "running");
    expect(await s.stop()).toBe("exited");

    const { s: again } = session(cwd, sessionId);
    const out = collect(again);
    again.send("two");
    await statusWhere(again, (x) => !x.turnActive && chunks(out).length === 1);
    expect(again.sessionId).toBe(sessionId);
    expect(out.json().find((j) => j.subtype === "agentmux_session_outcome")).toMatchObject({ outcome: "resumed" });

    const { s: unknown } = session(undefined, "acp-unknown");
    const out2 = collect(unknown);
    unknown.send("three");
    await statusWhere(unknown, (x) => !x.turnActive && chunks(out2).length === 1);
    expect(unknown.sessionId).not.toBe("acp-unknown");
    expect(out2.json().find((j) => j.subtype === "agentmux_session_outcome")).toMatchObject({
      outcome: "fresh",
      attempted_sid: "acp-unknown",
    });
  });
});
