// The agent's stderr: a bounded tail that faults carry, and a rate-limited feed for the app's log.
// Real child processes throughout; the rate limit runs on an injected clock.
import { until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { fixtureSession as session, statusWhere } from "./helpers.js";

describe("agent stderr", () => {
  it("a CLI that rejects its key and exits 1: the fault is classified and carries its stderr", async () => {
    const logged: string[] = [];
    const s = session("bad-key", { onStderr: (line) => logged.push(line) });
    s.send("hi");
    const st = await statusWhere(s, (x) => x.status === "done");
    expect(st.exitCode).toBe(1);
    expect(st.fault).toMatchObject({
      kind: "auth",
      fatal: true,
      message: "the agent exited with code 1 in the middle of a turn: error: invalid api key",
    });
    // Most recent last; the blank line between them is not kept.
    expect(st.fault?.stderr).toEqual(["agent cli 1.0.0", "error: invalid api key"]);
    expect(s.stderrTail).toEqual(st.fault?.stderr);
    expect(logged).toEqual(["agent cli 1.0.0", "error: invalid api key"]);
  });

  it("does not restart a CLI that died on its own: waiting turns stay queued for the next send", async () => {
    let spawns = 0;
    const s = session(() => (spawns++ === 0 ? "bad-key" : "echo"));
    s.send("hi");
    await statusWhere(s, (x) => x.status === "done");
    // One spawn only, however the write of "hi" went (it may have met a closed pipe and come back).
    expect(spawns).toBe(1);
    const waiting = s.queued;
    s.send("again");
    const st = await statusWhere(s, (x) => x.status === "running" && x.usage.input_tokens === waiting + 1);
    expect(spawns).toBe(2);
    // A new process clears the old fault.
    expect(st.fault).toBeNull();
  });

  it("a CLI that floods stderr: onStderr gets at most the limit per second, then one suppressed-count line", async () => {
    let clock = 1_000_000;
    const logged: string[] = [];
    const s = session("stderr-flood", {
      now: () => clock,
      onStderr: (line) => logged.push(line),
      stderrLimits: { linesPerSecond: 10 },
    });
    s.send("one");
    // 5000 lines of noise, then the answer to "one", all within one second of the injected clock.
    await until("the flood to be read", () => s.stderrTail.at(-1) === "after one", 20_000);
    expect(logged).toEqual(Array.from({ length: 10 }, (_, i) => `noise ${i}`));
    // The tail is bounded and keeps the most recent lines.
    expect(s.stderrTail).toHaveLength(20);
    expect(s.stderrTail.slice(0, 2)).toEqual(["noise 4981", "noise 4982"]);

    clock += 1500;
    s.send("two");
    await until("the next stderr line", () => logged.includes("after two"), 20_000);
    expect(logged.slice(10)).toEqual(["… 4991 stderr lines suppressed", "after two"]);
  });

  it("an unterminated 10 MB stderr line is clipped, and the fault keeps it short", async () => {
    const logged: string[] = [];
    const s = session("stderr-huge", { onStderr: (line) => logged.push(line) });
    s.send("hi");
    const st = await statusWhere(s, (x) => x.status === "done");
    expect(st.exitCode).toBe(1);
    const clipped = `${"y".repeat(500)}…`;
    expect(st.fault?.stderr).toEqual(["error: config broken", clipped]);
    expect(st.fault?.message).toMatch(/^the agent exited with code 1 in the middle of a turn: error: config broken$/);
    expect(logged).toEqual(["error: config broken", clipped]);
  });

  it("limits are options: a shorter tail and shorter lines", async () => {
    const s = session("stderr-flood", { stderrLimits: { tailLines: 3, lineChars: 5 } });
    s.send("one");
    await until("the flood to be read", () => s.stderrTail.at(-1) === "after…", 20_000);
    expect(s.stderrTail).toEqual(["noise…", "noise…", "after…"]);
  });
});
