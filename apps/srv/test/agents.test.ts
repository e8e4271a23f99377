// Agents in srv, end to end: the real srv binary runs the real Claude Code CLI against a fake
// Messages API (the only fake: the model server).
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AUTH_KEY,
  claudeAgent,
  claudeEnv,
  type EventOf,
  type FakeAnthropic,
  is,
  isRunning,
  newTab,
  srvWithClient,
  startFakeAnthropic,
  tempDir,
  until,
} from "@agentmux/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});

/** Starts srv; a restart passes the same data dir and env (claude keeps conversations under HOME). */
async function start(dataDir?: string, env = claudeEnv(fake.url)) {
  return { ...(await srvWithClient({ env, ...(dataDir ? { dataDir } : {}) })), env };
}

const turnDone = (blockId: string, minOutput = 1) =>
  is("agent_status", (e) => e.block_id === blockId && !e.turn_active && (e.usage?.output_tokens ?? 0) >= minOutput);

describe("agents in srv", () => {
  it("two claude agents survive srv's SIGKILL mid-turn: no survivors, same sessions resumed, transcripts whole", async () => {
    const { srv, client, env } = await start();
    const tabId = await newTab(client);
    const a = await claudeAgent(client, tabId, "alpha");
    const b = await claudeAgent(client, tabId, "beta");
    client.send({ cmd: "subscribe_output", block_ids: [a, b] });
    client.send({ cmd: "agent_send", block_id: a, message: "reply alpha-1" });
    client.send({ cmd: "agent_send", block_id: b, message: "reply beta-1" });
    // The two agents finish in either order: look through everything received, not after a cursor.
    const doneA = (await until(
      "alpha's turn",
      () => client.events.find(turnDone(a)),
      30_000,
    )) as EventOf<"agent_status">;
    const doneB = (await until(
      "beta's turn",
      () => client.events.find(turnDone(b)),
      30_000,
    )) as EventOf<"agent_status">;
    expect(doneA.session_id).not.toBe(doneB.session_id);

    const asked = fake.requests.length;
    client.send({ cmd: "agent_send", block_id: a, message: "slow 200" });
    client.send({ cmd: "agent_send", block_id: b, message: "slow 200" });
    await until("both agents mid-turn", () => fake.requests.length >= asked + 2, 30_000);
    const pids = [...client.events]
      .filter((e): e is EventOf<"agent_status"> => e.event === "agent_status" && e.pid !== null)
      .map((e) => e.pid as number);
    const before = new Set(pids);
    expect(before.size).toBe(2);
    // What subscribers saw before the crash, per block, in offset order.
    const seen = (id: string) =>
      client.events
        .filter((e): e is EventOf<"block_output"> => e.event === "block_output" && e.block_id === id)
        .map((e) => e.data)
        .join("");
    const seenA = seen(a);
    const seenB = seen(b);
    expect(seenA).toContain("alpha-1");

    await srv.kill("SIGKILL");
    const again = await start(srv.dataDir, env);
    // No agent process of the crashed run is left: it exited on stdin EOF or was reaped at boot.
    for (const pid of before) await until(`pid ${pid} to be gone`, () => !isRunning(pid), 15_000);

    // The blocks say they were interrupted (in the durable log, after the restart).
    again.client.send({ cmd: "get_events", since: 0 });
    const list = (await again.client.next(is("event_list"))) as EventOf<"event_list">;
    const flagged = list.events.filter(
      (e) => e.event === "block_meta_updated" && e.meta_patch["session:was_interrupted"] === true,
    );
    expect(new Set(flagged.map((e) => (e as EventOf<"block_meta_updated">).block_id))).toEqual(new Set([a, b]));

    // Every byte pushed before the crash is in the transcript.
    for (const [id, pushed] of [
      [a, seenA],
      [b, seenB],
    ] as const) {
      const out = (await again.client.call(
        { cmd: "get_block_output", block_id: id, offset: 0, limit: 16 * 1024 * 1024 },
        is("block_output"),
      )) as EventOf<"block_output">;
      expect(out.data.startsWith(pushed)).toBe(true);
    }

    // The next send resumes the same conversation in a new process.
    again.client.send({ cmd: "subscribe_output", block_ids: [a] });
    again.client.send({ cmd: "agent_send", block_id: a, message: "reply alpha-2" });
    const resumed = (await again.client.next(
      is(
        "agent_status",
        (e) =>
          e.block_id === a &&
          !e.turn_active &&
          e.status === "running" &&
          (e.usage?.output_tokens ?? 0) > (doneA.usage?.output_tokens ?? 0),
      ),
      30_000,
    )) as EventOf<"agent_status">;
    expect(resumed.session_id).toBe(doneA.session_id);
    expect(before.has(resumed.pid as number)).toBe(false);
    const pushed = again.client.events.filter((e): e is EventOf<"block_output"> => e.event === "block_output");
    expect(pushed.map((e) => e.data).join("")).toContain('"outcome":"resumed"');
    expect(JSON.stringify(fake.requests.at(-1)?.messages)).toContain("alpha-1");
  }, 120_000);

  it("answers permission requests over the wire; deleting the block stops its agent; the key stays out of its env", async () => {
    const { client } = await start();
    const tabId = await newTab(client);
    const cwd = tempDir("agent-cwd-");
    const id = await claudeAgent(client, tabId, "gamma", cwd);
    client.send({ cmd: "agent_send", block_id: id, message: "tool touch made.txt" });
    const asking = (await client.next(
      is("agent_status", (e) => e.block_id === id && e.needs_input),
      30_000,
    )) as EventOf<"agent_status">;
    expect(asking.requests[0]).toMatchObject({ tool: "Bash", input: { command: "touch made.txt" } });
    const pid = asking.pid as number;
    expect(readFileSync(`/proc/${pid}/environ`, "latin1")).not.toContain(AUTH_KEY);

    client.send({ cmd: "agent_respond", block_id: id, request_id: "nope", decision: "allow", req_id: "r-bad" });
    expect(await client.next(is("error", (e) => e.req_id === "r-bad"))).toMatchObject({ code: "not_found" });
    client.send({
      cmd: "agent_respond",
      block_id: id,
      request_id: asking.requests[0]?.request_id as string,
      decision: "allow",
    });
    await client.next(
      is("agent_status", (e) => e.block_id === id && !e.turn_active && !e.needs_input),
      30_000,
    );
    expect(existsSync(join(cwd, "made.txt"))).toBe(true);

    client.send({ cmd: "delete_block", tab_id: tabId, block_id: id });
    await client.next(is("block_deleted"));
    await until("the agent to stop with its block", () => !isRunning(pid), 15_000);
  }, 60_000);

  it("refuses bad agent commands with typed errors and keeps serving", async () => {
    const { srv, client } = await start();
    const tabId = await newTab(client);
    const plain = (await client.call(
      { cmd: "create_block", tab_id: tabId, meta: { view: "term" } },
      is("block_created"),
    )) as EventOf<"block_created">;
    client.send({ cmd: "agent_send", block_id: plain.block_id, message: "hi", req_id: "r1" });
    expect(await client.next(is("error", (e) => e.req_id === "r1"))).toMatchObject({ code: "invalid_command" });
    client.send({ cmd: "agent_send", block_id: "no-such-block", message: "hi", req_id: "r2" });
    expect(await client.next(is("error", (e) => e.req_id === "r2"))).toMatchObject({ code: "not_found" });
    const dup = await claudeAgent(client, tabId, "same");
    // A second agent of the same name in the workspace is refused when it is created (a reducer rule).
    const meta = { view: "agent", "agent:provider": "claude", "agent:cwd": tempDir(), "agent:name": "same" };
    client.send({ cmd: "create_block", tab_id: tabId, meta, req_id: "r3" });
    const err = await client.next(is("error", (e) => e.req_id === "r3"));
    expect((err as EventOf<"error">).message).toMatch(/agent name "same" is already used by block/);
    client.send({ cmd: "agent_send", block_id: dup, message: "reply x — ünï ✓ 𝄞" });
    await client.next(turnDone(dup), 30_000);
    // list_agents: every agent block (not the plain one) with its meta and live status, in one reply.
    const list = (await client.call({ cmd: "list_agents" }, is("agent_list"))) as EventOf<"agent_list">;
    expect(list.agents).toHaveLength(1);
    expect(list.agents[0]).toMatchObject({ block_id: dup, tab_id: tabId, meta: { "agent:name": "same" } });
    expect(list.agents[0]?.status).toMatchObject({ turn_active: false, session_id: expect.any(String) });
    expect(list.agents[0]?.status?.usage?.output_tokens).toBeGreaterThan(0);
    client.send({ cmd: "list_agents", workspace: "x", req_id: "r4" } as never);
    expect(await client.next(is("error", (e) => e.req_id === "r4"))).toMatchObject({ code: "invalid_command" });
    // Over HTTP: reading a transcript works, subscribing needs a stream.
    const page = async (cmd: { offset?: number; limit?: number; before?: number }) => {
      const res = await srv.http({ cmd: "get_block_output", block_id: dup, ...cmd });
      expect(res.status).toBe(200);
      const ev = res.body.events?.[0];
      if (ev?.event !== "block_output") throw new Error(`expected block_output, got ${JSON.stringify(res.body)}`);
      return ev;
    };
    const output = async (offset: number, limit?: number) => (await page({ offset, ...(limit ? { limit } : {}) })).data;
    const text = await output(0);
    expect(text).toContain('"type":"result"');
    expect(text).toContain("ünï ✓ 𝄞");
    // Backwards from the end in pages of 7 bytes (cutting characters of 2, 3 and 4 bytes): each
    // page starts at a character and ends where the later one started; together, the transcript.
    let back = "";
    for (let before = Number.MAX_SAFE_INTEGER, n = 0; before > 0; n++) {
      const p = await page({ before, limit: 7 });
      expect(Buffer.byteLength(p.data)).toBeGreaterThan(0);
      expect(p.offset + Buffer.byteLength(p.data)).toBe(Math.min(before, Buffer.byteLength(text)));
      back = p.data + back;
      before = p.offset;
      expect(n).toBeLessThan(Buffer.byteLength(text));
    }
    expect(back).toBe(text);
    expect(await page({ before: 0 })).toMatchObject({ offset: 0, data: "" });
    const sub = await srv.http({ cmd: "subscribe_output", block_ids: [dup] });
    expect(sub.body.events?.[0]).toMatchObject({ event: "error", code: "invalid_command" });
    // A read from the middle by offset continues exactly where the previous one stopped.
    const half = Math.floor(Buffer.byteLength(text) / 2);
    const got1 = await output(0, half);
    expect(got1 + (await output(Buffer.byteLength(got1)))).toBe(text);
  }, 60_000);

  it("stops every agent before it exits on SIGTERM", async () => {
    const { srv, client } = await start();
    const tabId = await newTab(client);
    const id = await claudeAgent(client, tabId, "delta");
    client.send({ cmd: "agent_send", block_id: id, message: "slow 200" });
    const running = (await client.next(
      is("agent_status", (e) => e.block_id === id && e.pid !== null),
      30_000,
    )) as EventOf<"agent_status">;
    await srv.kill("SIGTERM");
    expect(srv.exitCode).toBe(0);
    expect(isRunning(running.pid as number)).toBe(false);
  }, 60_000);

  it("keeps the transcript store's WAL bounded while an agent prints 64 MiB", async () => {
    // A chatty stand-in CLI (no model needed to print a lot): per turn, the asked-for MiB of
    // stream lines, written as a CLI does (waiting for the pipe to drain), then a result.
    const dir = tempDir("chatty-");
    const cli = join(dir, "chatty");
    writeFileSync(
      cli,
      `#!${process.execPath}
const write = (s) => process.stdout.write(s) || new Promise((r) => process.stdout.once("drain", r));
write('{"type":"system","subtype":"init","session_id":"chatty"}\\n');
const line = '{"type":"stream_event","event":{"delta":{"text":"' + "x".repeat(200) + '"}}}\\n';
require("node:readline").createInterface({ input: process.stdin }).on("line", async (l) => {
  const mib = Number(JSON.parse(l).message.content);
  let chunk = "";
  for (let n = 0; n < (mib * 1048576) / line.length; n++) {
    chunk += line;
    if (chunk.length >= 65536) { await write(chunk); chunk = ""; }
  }
  await write(chunk + '{"type":"result","subtype":"success","is_error":false,"session_id":"chatty","usage":{"output_tokens":1}}\\n');
});
`,
    );
    chmodSync(cli, 0o755);
    const { srv, client } = await start();
    const tabId = await newTab(client);
    const meta = { view: "agent", "agent:provider": "claude", "agent:cwd": dir, "agent:command": cli };
    const { block_id: id } = (await client.call(
      { cmd: "create_block", tab_id: tabId, meta },
      is("block_created"),
    )) as EventOf<"block_created">;
    client.send({ cmd: "agent_send", block_id: id, message: "64" });
    await client.next(turnDone(id), 60_000);
    const wal = statSync(join(srv.dataDir, "db", "filestore.db-wal")).size;
    // Everything is stored (the tail ends with the result line) ...
    const tail = (await client.call(
      { cmd: "get_block_output", block_id: id, offset: 64 * 1024 * 1024, limit: 1024 * 1024 },
      is("block_output", (e) => e.block_id === id),
    )) as EventOf<"block_output">;
    expect(tail.offset).toBe(64 * 1024 * 1024);
    expect(tail.data).toMatch(/"type":"result".*\n$/);
    // ... yet the WAL holds about one checkpoint interval (4 MiB of output), not all 64 MiB.
    expect(wal).toBeLessThan(32 * 1024 * 1024);
  }, 120_000);
});
