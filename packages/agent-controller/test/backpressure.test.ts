// Writes to an agent respect its stdin pipe: while the agent does not read, turns wait in the
// session's bounded queue (not in an unbounded stream buffer). A real child that reads nothing
// until it is signalled.
import { until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { QueueFullError } from "../src/index.js";
import { collect, fixtureSession, statusWhere } from "./helpers.js";

/** Well over a pipe's capacity (64 KiB on Linux), so one turn fills it. */
const LARGE = 256 * 1024;

describe("stdin backpressure", () => {
  it("queues turns while the agent's stdin is full, refuses the 65th waiting, then delivers all in order once", async () => {
    const s = fixtureSession("slow-reader");
    const out = collect(s);
    const body = "x".repeat(LARGE);
    const turn = (i: number) => `m${i}:${body}`;
    s.send(turn(0));
    // The agent is up (its SIGUSR1 handler is installed) and m0 is being written to it.
    await until("the agent to start", () => out.json().some((j) => j.subtype === "init") && s.queued === 0, 20_000);
    // m0 filled the pipe: the next 64 wait in the queue, and the 65th waiting is refused.
    for (let i = 1; i <= 64; i++) s.send(turn(i));
    expect(s.queued).toBe(64);
    expect(() => s.send(turn(65))).toThrow(QueueFullError);
    expect(s.queued).toBe(64);

    // The agent starts reading: everything arrives, in order, exactly once, whole.
    process.kill(s.status.pid as number, "SIGUSR1");
    await statusWhere(s, (x) => x.usage.input_tokens === 65 && !x.turnActive, 60_000);
    const echoed = out
      .json()
      .filter((j) => j.type === "assistant")
      .map((j) =>
        JSON.stringify(j.message)
          .match(/echo:(m\d+):(\d+)/)
          ?.slice(1),
      );
    expect(echoed).toEqual(Array.from({ length: 65 }, (_, i) => [`m${i}`, String(turn(i).length)]));
    expect(s.queued).toBe(0);
    // And the session takes more.
    s.send(turn(66));
    await statusWhere(s, (x) => x.usage.input_tokens === 66 && !x.turnActive);
  });
});
