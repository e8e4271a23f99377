// What the session does when the agent misbehaves: garbage and huge lines, ignored signals, a
// closed stdin, a backlog. Real child processes throughout.
import { isRunning, until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { claude, createSession, QueueFullError } from "../src/index.js";
import { closeAfterTest, collect, fixtureSession, statusWhere } from "./helpers.js";

/** The claude adapter pointed at the misbehaving stand-in, with short stop deadlines. */
function session(mode: string, deadlines = { interruptMs: 300, eofMs: 500, termMs: 500 }) {
  return fixtureSession(mode, { deadlines });
}

describe("agent faults", () => {
  it("stores garbage, binary and 10 MB lines verbatim and goes on with the next valid line", async () => {
    const s = session("garbage");
    const out = collect(s);
    s.send("hi");
    const st = await statusWhere(s, (x) => x.lastTurn !== null && !x.turnActive);
    expect(st.sessionId).toBe("sid-after-garbage");
    const lines = out.lines.map((l) => l.data);
    expect(lines[0]?.toString()).toBe("this is not json {\n");
    expect(lines[1]).toEqual(Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x7b, 0x0a]));
    expect(lines[2]?.length).toBe(10 * 1024 * 1024 + 1);
    expect(lines[3]?.toString()).toBe('{"type":"assistant","truncated json\n');
    expect(out.json().some((j) => j.type === "result")).toBe(true);
    // Every byte is accounted for, at contiguous offsets.
    let at = 0;
    for (const l of out.lines) {
      expect(l.offset).toBe(at);
      at += l.data.length;
    }
    // And the session still works.
    s.send("again");
    await statusWhere(s, (x) => x.usage.input_tokens === 2 && !x.turnActive);
  });

  it("kills a CLI that ignores SIGTERM at the deadline, with its whole process group", async () => {
    const s = session("ignore-term");
    const out = collect(s);
    s.send("hi");
    await statusWhere(s, (x) => x.lastTurn !== null);
    const grandchild = (out.json().find((j) => j.grandchild) as { grandchild: number }).grandchild;
    const pid = s.status.pid as number;
    expect(isRunning(grandchild)).toBe(true);
    const started = Date.now();
    expect(await s.stop()).toBe("killed");
    // EOF and SIGTERM deadlines (500 + 500 ms) passed before SIGKILL.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(isRunning(pid)).toBe(false);
    await until("the grandchild to die", () => !isRunning(grandchild), 5000);
    expect(s.status).toMatchObject({ status: "done", exitCode: 137 });
  });

  it("survives an agent that closed its stdin: the unwritten turn waits and goes to the next process", async () => {
    const warnings: string[] = [];
    let spawns = 0;
    const s = fixtureSession(() => (spawns++ === 0 ? "close-stdin" : "echo"), {
      deadlines: { interruptMs: 200, eofMs: 300, termMs: 2000 },
      onWarning: (w) => warnings.push(w),
    });
    const out = collect(s);
    s.send("first");
    await statusWhere(s, (x) => x.sessionId === "fixture-session");
    const pid = s.status.pid;
    // The pipe is broken now: the write fails (EPIPE) and is reported, nothing throws, and the
    // message is back in the queue rather than lost.
    s.send("second");
    await until("a write warning", () => warnings.some((w) => /EPIPE/.test(w)) && s.queued > 0, 5000);
    expect(s.status.status).toBe("running");
    // "first" may have reached the pipe before the agent closed it (then it is gone with it).
    const waiting = s.queued;
    expect(waiting === 1 || waiting === 2).toBe(true);
    expect(await s.stop()).toBe("terminated");
    // The next process gets what was not written, in order, once.
    await statusWhere(s, (x) => x.pid !== pid && x.usage.input_tokens === waiting && !x.turnActive);
    const echoed = out
      .json()
      .filter((j) => j.type === "assistant")
      .map((j) => JSON.stringify(j.message).match(/echo:(\w+)/)?.[1]);
    expect(echoed).toEqual(waiting === 2 ? ["first", "second"] : ["second"]);
    expect(s.queued).toBe(0);
  });

  it("queues sends while stopping, in order, and refuses the 65th", async () => {
    const s = session("ignore-term", { interruptMs: 100, eofMs: 300, termMs: 300 });
    const out = collect(s);
    s.send("m0");
    await statusWhere(s, (x) => x.lastTurn !== null);
    const stopping = s.stop();
    for (let i = 1; i <= 64; i++) s.send(`m${i}`);
    expect(() => s.send("m65")).toThrow(QueueFullError);
    expect(await stopping).toBe("killed");
    // The backlog starts a new process and arrives in order.
    await statusWhere(s, (x) => x.usage.input_tokens === 65, 20_000);
    const echoed = out
      .json()
      .filter((j) => j.type === "assistant")
      .map((j) => JSON.stringify(j.message).match(/echo:(m\d+)/)?.[1]);
    expect(echoed).toEqual(Array.from({ length: 65 }, (_, i) => `m${i}`));
  });

  it("reports an executable that does not exist, and keeps serving", async () => {
    const s = closeAfterTest(
      createSession({ provider: claude(), command: "/nonexistent/claude", cwd: process.cwd(), env: {} }),
    );
    s.send("hello");
    const st = await statusWhere(s, (x) => x.status === "done");
    expect(st.exitCode).toBe(127);
    expect(st.fault).toMatchObject({ code: "command_not_found", message: "/nonexistent/claude: no such file" });
  });
});
