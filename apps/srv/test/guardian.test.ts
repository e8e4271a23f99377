// No agent outlives srv, not even a `kill -9`'d one: srv's guardian kills every agent process
// group when srv dies, however it dies; boot-time reaping stays the second line of defence.
// Real processes throughout: the real claude CLI (against a model server that never answers),
// stand-in CLIs that ignore SIGTERM and have children of their own, srv SIGKILLed.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  agentBlock,
  claudeBinary,
  claudeEnv,
  type EventOf,
  type FakeAnthropic,
  groupMembers,
  is,
  isRunning,
  newTab,
  PipeClient,
  Srv,
  startFakeAnthropic,
  stubbornAgent,
  tempDir,
  until,
} from "@agentmux/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The time srv's agents get to be gone after srv died (the promise). */
const GONE_WITHIN_MS = 2000;

let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});

const gone = (pgids: number[]) =>
  until("every agent process group to be gone", () => pgids.every((g) => groupMembers(g).length === 0), GONE_WITHIN_MS);

describe("srv SIGKILLed: its guardian kills every agent", () => {
  it("the real claude CLI mid-turn, stuck on a model server that never answers", async () => {
    const srv = await Srv.start({ env: claudeEnv(fake.url) });
    const client = await PipeClient.connect(srv.pipe);
    await client.register(process.pid);
    const id = await agentBlock(client, await newTab(client), {
      "agent:cwd": tempDir(),
      "agent:command": claudeBinary(),
    });
    client.send({ cmd: "agent_send", block_id: id, message: "hang" });
    const running = (await client.next(
      is("agent_status", (e) => e.block_id === id && e.pid !== null && e.turn_active),
      30_000,
    )) as EventOf<"agent_status">;
    // The CLI is waiting on the model now.
    await until(
      "the CLI's request to the model",
      () => fake.requests.some((r) => JSON.stringify(r).includes("hang")),
      30_000,
    );
    const pgid = running.pid as number;
    await srv.kill("SIGKILL");
    await gone([pgid]);
  }, 60_000);

  it("10 agents that ignore SIGTERM, each with a child of its own", async () => {
    const srv = await Srv.start();
    const agents = [];
    for (let i = 0; i < 10; i++) agents.push(await stubbornAgent(srv.pipe));
    expect(agents.every((a) => groupMembers(a.pgid).length === 2)).toBe(true);
    await srv.kill("SIGKILL");
    await gone(agents.map((a) => a.pgid));
    expect(agents.some((a) => isRunning(a.grandchild))).toBe(false);
  }, 90_000);

  it("srv SIGKILLed during startup, while it reaps survivors of an earlier crash", async () => {
    const first = await Srv.start();
    const survivors = [await stubbornAgent(first.pipe), await stubbornAgent(first.pipe)];
    await first.crashLeavingAgents();
    expect(survivors.every((a) => groupMembers(a.pgid).length === 2)).toBe(true);
    const second = Srv.spawn({ dataDir: first.dataDir });
    // The survivors ignore the SIGTERM srv reaps them with (and note it): srv is mid-reap now.
    await until("srv to be reaping", () => survivors.some((a) => existsSync(join(a.cwd, "signals.log"))), 20_000);
    expect(second.estart).toBeUndefined();
    await second.kill("SIGKILL");
    await gone(survivors.map((a) => a.pgid));
  }, 60_000);
});

describe("the guardian itself", () => {
  it("killed while srv runs: agents keep running, srv replaces it and says so, and the replacement guards them", async () => {
    const srv = await Srv.start();
    const agent = await stubbornAgent(srv.pipe);
    const guardian = await until("srv's guardian", () => srv.guardianPid());
    process.kill(guardian, "SIGKILL");
    const replacement = await until("a new guardian", () => {
      const pid = srv.guardianPid();
      return pid !== undefined && pid !== guardian && pid;
    });
    expect(groupMembers(agent.pgid)).toHaveLength(2);
    await until("the log line", () =>
      readFileSync(join(srv.dataDir, "logs", "srv.log"), "utf8").includes("the agent guardian died while srv runs"),
    );
    await srv.kill("SIGKILL");
    await gone([agent.pgid]);
    await until("the replacement to exit", () => !isRunning(replacement), GONE_WITHIN_MS);
  }, 60_000);

  it("a clean stop leaves no guardian behind", async () => {
    const srv = await Srv.start();
    const agent = await stubbornAgent(srv.pipe);
    const guardian = await until("srv's guardian", () => srv.guardianPid());
    await srv.kill("SIGTERM");
    expect(srv.exitCode).toBe(0);
    await until("the guardian to exit", () => !isRunning(guardian), GONE_WITHIN_MS);
    expect(groupMembers(agent.pgid)).toHaveLength(0);
  }, 60_000);

  it("with the guardian killed too, boot-time reaping still stops the survivors and flags their blocks", async () => {
    const first = await Srv.start();
    const agent = await stubbornAgent(first.pipe);
    await first.crashLeavingAgents();
    expect(groupMembers(agent.pgid)).toHaveLength(2);
    const second = await Srv.start({ dataDir: first.dataDir });
    expect(second.estart).toBeDefined();
    expect(groupMembers(agent.pgid)).toHaveLength(0);
    const client = await PipeClient.connect(second.pipe);
    await client.register(process.pid);
    client.send({ cmd: "get_events", since: 0 });
    const list = (await client.next(is("event_list"))) as EventOf<"event_list">;
    expect(
      list.events.some((e) => e.event === "block_meta_updated" && e.meta_patch["session:was_interrupted"] === true),
    ).toBe(true);
  }, 60_000);
});
