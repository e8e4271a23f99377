// What the session does when the agent misbehaves: garbage and huge lines, ignored signals, a
// closed stdin, a backlog. Real child processes throughout.
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { claude, createSession, QueueFullError, type Session } from "../src/index.js";
import { collect, isRunning, statusWhere, until } from "./helpers.js";

const fixture = fileURLToPath(new URL("./fixtures/misbehaving-cli.mjs", import.meta.url));
const open: Session[] = [];
afterAll(async () => {
  await Promise.all(open.map((s) => s.close({ force: true })));
});

/** The claude adapter pointed at the fixture (the adapter's argv is replaced by the fixture's). */
function session(mode: string, deadlines = { interruptMs: 300, eofMs: 500, termMs: 500 }) {
  const provider = { ...claude(), args: () => [fixture, mode] };
  const s = createSession({
    provider,
    command: process.execPath,
    cwd: process.cwd(),
    env: { PATH: process.env.PATH },
    deadlines,
  });
  open.push(s);
  return s;
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
    await until(() => !isRunning(grandchild), 5000, "the grandchild to die");
    expect(s.status).toMatchObject({ status: "done", exitCode: 137 });
  });

  it("survives an agent that closed its stdin: sends fail softly and stop still works", async () => {
    const warnings: string[] = [];
    const provider = { ...claude(), args: () => [fixture, "close-stdin"] };
    const s = createSession({
      provider,
      command: process.execPath,
      cwd: process.cwd(),
      env: { PATH: process.env.PATH },
      deadlines: { interruptMs: 200, eofMs: 300, termMs: 2000 },
      onWarning: (w) => warnings.push(w),
    });
    open.push(s);
    s.send("first");
    await statusWhere(s, (x) => x.sessionId === "fixture-session");
    // The pipe is broken now: the write fails (EPIPE) and is reported, nothing throws.
    s.send("second");
    await until(() => warnings.some((w) => /EPIPE|stdin/.test(w)), 5000, "a write warning");
    expect(s.status.status).toBe("running");
    expect(await s.stop()).toBe("terminated");
    expect(s.status.status).toBe("done");
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
    const s = createSession({ provider: claude(), command: "/nonexistent/claude", cwd: process.cwd(), env: {} });
    open.push(s);
    s.send("hello");
    const st = await statusWhere(s, (x) => x.status === "done");
    expect(st.exitCode).toBe(127);
    expect(st.fault?.message).toMatch(/could not start the agent/);
  });
});
