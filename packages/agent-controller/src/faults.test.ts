import { describe, expect, it } from "vitest";
import { exitFault } from "./faults.js";

describe("exitFault", () => {
  it("takes the kind from a stderr line that names credentials or a rate limit, and quotes it", () => {
    expect(exitFault({ code: 1, signal: null, midTurn: false }, ["starting", "Error: invalid API key", "bye"])).toEqual(
      {
        kind: "auth",
        fatal: true,
        message: "the agent exited with code 1: Error: invalid API key",
      },
    );
    expect(exitFault({ code: 2, signal: null, midTurn: true }, ["429 Too Many Requests"])).toMatchObject({
      kind: "rate_limit",
      fatal: false,
      message: "the agent exited with code 2 in the middle of a turn: 429 Too Many Requests",
    });
  });

  it("does not read a stack trace's line numbers as a server error", () => {
    const trace = ["TypeError: x is not a function", "    at run (/app/cli.js:503:12)", "Node.js v24.0.0"];
    expect(exitFault({ code: 1, signal: null, midTurn: false }, trace)).toEqual({
      kind: "error",
      fatal: true,
      message: "the agent exited with code 1: TypeError: x is not a function",
    });
  });

  it("a signal from outside is not fatal; no stderr, no quote", () => {
    expect(exitFault({ code: 137, signal: "SIGKILL", midTurn: true }, [])).toEqual({
      kind: "error",
      fatal: false,
      message: "the agent was killed by SIGKILL in the middle of a turn",
    });
    expect(exitFault({ code: 0, signal: null, midTurn: true }, ["done"])).toEqual({
      kind: "error",
      fatal: false,
      message: "the agent exited in the middle of a turn: done",
    });
  });
});
