// zod/mini loads no locale. The package must neither give people bare "Invalid input"
// messages nor configure zod for the whole process to avoid it (no global state).

import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { AgentUsage, decodeCommand, decodeEvent, parseCommand, zodEnglishErrors } from "../src/index.js";

describe("error messages without a global zod locale", () => {
  it("importing the package configures nothing globally", () => {
    // This file loads no classic zod (which would install English globally), so the global
    // config is what the package left: no locale.
    expect(z.config().localeError).toBeUndefined();
    expect(AgentUsage.safeParse({ input_tokens: "1", output_tokens: 2 }).error?.issues[0]?.message).toBe(
      "Invalid input",
    );
  });

  it("command and event parse failures carry zod's English messages", () => {
    const cmd = decodeCommand('{"cmd":"create_tab","workspace_id":5,"name":""}');
    expect(cmd.ok ? "" : cmd.error.message).toBe(
      "parse failed: create_tab: workspace_id: Invalid input: expected string, received number",
    );
    const small = parseCommand({ cmd: "agent_send", block_id: "b", message: "" });
    expect(small.ok ? "" : small.error.message).toBe(
      "parse failed: agent_send: message: Too small: expected string to have >=1 characters",
    );
    const extra = parseCommand({ cmd: "ping", nonce: 1, noncee: 2 });
    expect(extra.ok ? "" : extra.error.message).toBe('parse failed: ping: Unrecognized key: "noncee"');
    const ev = decodeEvent('{"event":"pong","nonce":1.5,"version":1}');
    expect(ev.ok ? "" : ev.error.message).toBe(
      "parse failed: pong: nonce: Invalid input: expected int, received number",
    );
  });

  it("zodEnglishErrors gives the same messages to a caller's own parse", () => {
    const r = AgentUsage.safeParse({ input_tokens: "1", output_tokens: 2 }, { error: zodEnglishErrors });
    expect(r.error?.issues[0]?.message).toBe("Invalid input: expected number, received string");
  });
});
