// srv's relay, end to end: the real srv runs real Claude Code agents against a fake Messages API
// (the only fake: the model server); people and agents message each other through the relay.
import { RelayClient } from "@agentmux/relay";
import {
  claudeAgent,
  claudeEnv,
  type EventOf,
  type FakeAnthropic,
  is,
  newTab,
  type Srv,
  srvWithClient,
  startFakeAnthropic,
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

async function start(dataDir?: string, env = claudeEnv(fake.url)) {
  return { ...(await srvWithClient({ env, ...(dataDir ? { dataDir } : {}) })), env };
}

/** The user turns the model server was sent that carry `needle` (across every request of every agent). */
function userTurnsWith(needle: string): string[] {
  const turns = new Set<string>();
  for (const r of fake.requests)
    for (const m of r.messages ?? []) {
      if (m.role !== "user") continue;
      const text = typeof m.content === "string" ? m.content : m.content.map((b) => b.text ?? "").join("");
      if (text.includes(needle)) turns.add(text);
    }
  return [...turns];
}

const human = (srv: Srv) =>
  RelayClient.connect({ socketPath: srv.relaySocket, bundleName: "default", sessionId: "human", clientClass: "ui" });

describe("srv's relay", () => {
  it("a person messages an agent: the envelope is the agent's next user turn; list and look show the fleet", async () => {
    const { srv, client } = await start();
    const tabId = await newTab(client);
    const aliceId = await claudeAgent(client, tabId, "alice");
    await claudeAgent(client, tabId, "bad name"); // not a session id: not addressable, not listed
    expect(srv.estart?.relay).toBe(srv.relaySocket);
    const me = await human(srv);
    try {
      const list = await me.list();
      expect(list.bundle.sessions.map((s) => s.id)).toEqual(["alice"]);

      const sent = await me.send({ message: "reply hello human", targets: ["alice"], deliveryMode: "sync" });
      expect(sent).toMatchObject({ status: "success", sender_session: "human" });
      const messageId = sent.results[0]?.message_id as string;
      await client.next(
        is("agent_status", (e) => e.block_id === aliceId && !e.turn_active && (e.usage?.output_tokens ?? 0) > 0),
        30_000,
      );
      const turns = userTurnsWith(`Message-Id: ${messageId}`);
      expect(turns).toHaveLength(1);
      expect(turns[0]).toContain("From: you <session:human>");
      expect(turns[0]).toContain("reply hello human");

      const look = await me.look("alice", 20);
      expect(look).toMatchObject({ kind: "look", snapshot_format: "lines" });
      expect(JSON.stringify(look)).toContain("hello human");

      await expect(me.send({ message: "hi", targets: ["nobody"] })).rejects.toMatchObject({
        code: "validation_unknown_target",
      });
    } finally {
      me.close();
    }
  }, 90_000);

  it("two agents talk: alice's model calls the send tool for bob, bob gets the envelope as a user turn, and his reply reaches alice", async () => {
    const { client } = await start();
    const tabId = await newTab(client);
    const aliceId = await claudeAgent(client, tabId, "alice");
    await claudeAgent(client, tabId, "bob");
    // The model server scripts both agents: alice sends bob a message that makes bob send one back.
    const bobsTurn = `mcp send ${JSON.stringify({ targets: ["alice"], message: "reply thanks from bob" })}`;
    const alicesTurn = `mcp send ${JSON.stringify({ targets: ["bob"], message: bobsTurn })}`;
    client.send({ cmd: "agent_send", block_id: aliceId, message: alicesTurn });

    const reply = await until(
      "bob's message in alice's conversation",
      () => userTurnsWith("From: bob <session:bob>").find((t) => t.includes("reply thanks from bob")),
      60_000,
    );
    expect(reply).toContain("To: alice <session:alice>");
    expect(userTurnsWith("From: alice <session:alice>").some((t) => t.includes("To: bob <session:bob>"))).toBe(true);
    // Alice's model answered it: her transcript has the reply to bob's message.
    await until(
      "alice's answer to bob",
      async () => {
        const out = (await client.call(
          { cmd: "get_block_output", block_id: aliceId, offset: 0 },
          is("block_output"),
        )) as EventOf<"block_output">;
        return out.data.includes('"text":"thanks from bob"');
      },
      30_000,
    );
  }, 120_000);

  /** In the newest request that carries `latest`, how many user turns carry `needle`. */
  function timesInConversation(latest: string, needle: string): number {
    const request = fake.requests.findLast((r) => JSON.stringify(r).includes(latest));
    return (request?.messages ?? []).filter((m) => m.role === "user" && JSON.stringify(m.content).includes(needle))
      .length;
  }

  /** Restarts srv after a SIGKILL and has the agent answer one more message, so its whole conversation is sent again. */
  async function restartAndAsk(srv: Srv, env: Record<string, string>, message: string) {
    await srv.kill("SIGKILL");
    const again = await start(srv.dataDir, env);
    const me = await human(again.srv);
    try {
      await me.send({ message, targets: ["alice"], deliveryMode: "sync" });
    } finally {
      me.close();
    }
    await until("the agent's answer after the restart", () => timesInConversation(message, message) > 0, 60_000);
    return again;
  }

  it("an acknowledged message survives srv's kill -9 before it was handed over, and reaches the agent once", async () => {
    const env = { ...claudeEnv(fake.url), AGENTMUX_SRV_FAULT: "pause-relay-delivery:before" };
    const { srv, client } = await start(undefined, env);
    await claudeAgent(client, await newTab(client), "alice");
    const me = await human(srv);
    const sent = await me.send({ message: "reply survived the crash", targets: ["alice"], deliveryMode: "async" });
    me.close();
    expect(sent).toMatchObject({ status: "accepted", results: [{ outcome: "queued" }] });
    const id = sent.results[0]?.message_id as string;
    await until("the delivery parked", () => srv.stderr.some((l) => l.includes(`relay delivery held before ${id}`)));
    expect(userTurnsWith(id)).toEqual([]);

    const { AGENTMUX_SRV_FAULT: _, ...clean } = env;
    await restartAndAsk(srv, clean, "reply and after it");
    expect(timesInConversation("reply and after it", `Message-Id: ${id}`)).toBe(1);
  }, 120_000);

  it("a message the agent took just before srv's kill -9 is not given to it again after the restart", async () => {
    const env = { ...claudeEnv(fake.url), AGENTMUX_SRV_FAULT: "pause-relay-delivery:after" };
    const { srv, client } = await start(undefined, env);
    const aliceId = await claudeAgent(client, await newTab(client), "alice");
    const me = await human(srv);
    const sent = await me.send({ message: "reply took it once", targets: ["alice"], deliveryMode: "async" });
    me.close();
    const id = sent.results[0]?.message_id as string;
    // Handed over and answered, but srv dies before it records the delivery.
    await until("the delivery parked after the hand-over", () =>
      srv.stderr.some((l) => l.includes(`relay delivery held after ${id}`)),
    );
    await client.next(
      is("agent_status", (e) => e.block_id === aliceId && !e.turn_active && (e.usage?.output_tokens ?? 0) > 0),
      30_000,
    );
    expect(userTurnsWith(`Message-Id: ${id}`)).toHaveLength(1);

    const { AGENTMUX_SRV_FAULT: _, ...clean } = env;
    await restartAndAsk(srv, clean, "reply and then");
    expect(timesInConversation("reply and then", `Message-Id: ${id}`)).toBe(1);
  }, 120_000);
});
