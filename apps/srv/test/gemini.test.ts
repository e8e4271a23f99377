// A gemini agent in srv, end to end: the real srv runs the real Gemini CLI in ACP mode against a
// fake Gemini API (the only fake: the model server).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { normalizeChunk } from "@agentmux/agent-controller/transcript";
import {
  agentBlock,
  type EventOf,
  type FakeGemini,
  geminiBinary,
  geminiEnv,
  is,
  newTab,
  srvWithClient,
  startFakeGemini,
  tempDir,
  until,
} from "@agentmux/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let fake: FakeGemini;
beforeAll(async () => {
  fake = await startFakeGemini();
});
afterAll(async () => {
  await fake.close();
});

describe("a gemini agent in srv", () => {
  it("answers a message, asks permission over the wire, and its transcript reads as text", async () => {
    const { client } = await srvWithClient();
    const tabId = await newTab(client);
    const cwd = tempDir("agent-cwd-");
    const id = await agentBlock(client, tabId, {
      "agent:provider": "gemini",
      "agent:name": "gem",
      "agent:cwd": cwd,
      "agent:command": geminiBinary(),
      "agent:env": geminiEnv(fake.url),
    });
    const idle = (e: EventOf<"agent_status">) => e.block_id === id && !e.turn_active && e.session_id !== null;
    client.send({ cmd: "agent_send", block_id: id, message: "reply hello through srv" });
    await client.next(
      is("agent_status", (e) => e.block_id === id && e.turn_active),
      60_000,
    );
    const done = (await client.next(is("agent_status", idle), 60_000)) as EventOf<"agent_status">;
    expect(done.fault).toBeNull();

    // A tool call: the request is listed in agent_status and answered with agent_respond.
    client.send({ cmd: "agent_send", block_id: id, message: "tool touch via-srv.txt" });
    const asking = (await client.next(
      is("agent_status", (e) => e.block_id === id && e.requests.length === 1),
      60_000,
    )) as EventOf<"agent_status">;
    const requestId = asking.requests[0]?.request_id as string;
    client.send({ cmd: "agent_respond", block_id: id, request_id: requestId, decision: "allow" });
    await until("the command to run", () => existsSync(join(cwd, "via-srv.txt")), 30_000);
    await client.next(
      is("agent_status", (e) => idle(e) && e.requests.length === 0),
      60_000,
    );

    // The stored transcript is the CLI's ACP lines; the transcript model reads them as text.
    const out = (await client.call(
      { cmd: "get_block_output", block_id: id, offset: 0, limit: 16 * 1024 * 1024 },
      is("block_output", (e) => e.block_id === id),
    )) as EventOf<"block_output">;
    const events = normalizeChunk("gemini", out.data).events;
    expect(events.filter((e) => e.type === "unknown")).toEqual([]);
    const texts = events.flatMap((e) => (e.type === "text" ? [e.text] : []));
    expect(texts.join("")).toContain("hello through srv");
    expect(events.some((e) => e.type === "tool_result" || e.type === "tool_call")).toBe(true);
  }, 120_000);
});
