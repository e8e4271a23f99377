// agentmux's extensions of the relay wire: the status query (a sender sees where its messages
// are) and requests-only streams (hello `inbox: false`, as a CLI command uses).
import { until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { RelayClient } from "../src/client.js";
import { BlockingTransport, BUNDLE, OPEN, startRelay } from "./relay-helpers.js";

describe("status", () => {
  it("a sender follows its message from pending to delivered; others do not see it; a UI sees all", async () => {
    const transport = new BlockingTransport();
    const { socketPath } = await startRelay({
      snapshot: {
        members: [
          { id: "alpha", transport, controls: OPEN },
          { id: "bravo", transport, controls: OPEN },
        ],
        uis: [{ id: "tui", controls: OPEN }],
      },
    });
    const connect = (sessionId: string, clientClass: "agent" | "ui" = "agent") =>
      RelayClient.connect({ socketPath, bundleName: BUNDLE, sessionId, clientClass });
    const [alpha, bravo, tui] = await Promise.all([connect("alpha"), connect("bravo"), connect("tui", "ui")]);
    try {
      const sent = await alpha.send({ message: "hello", targets: ["bravo"], deliveryMode: "async" });
      const id = sent.results[0]?.message_id as string;
      await until("the delivery to start", () => transport.held === 1);
      expect((await alpha.status([id, "no-such-id"])).messages).toEqual([
        { message_id: id, state: "pending", target_session: "bravo" },
        { message_id: "no-such-id", state: "unknown" },
      ]);
      // Only its sender (or a UI) may ask: to anyone else it does not exist.
      expect((await bravo.status([id])).messages).toEqual([{ message_id: id, state: "unknown" }]);

      transport.release({ outcome: "delivered" });
      const done = await until("delivered", async () => {
        const [m] = (await alpha.status([id])).messages;
        return m?.state === "delivered" && m;
      });
      expect(done).toMatchObject({ target_session: "bravo", outcome: "delivered" });
      expect((await tui.status([id])).messages[0]).toMatchObject({ state: "delivered" });
    } finally {
      alpha.close();
      bravo.close();
      tui.close();
    }
  });
});

describe("requests-only streams (hello inbox: false)", () => {
  it("claim no identity, so they run beside the session's own stream and each other, and receive none of its messages", async () => {
    const transport = new BlockingTransport();
    const { socketPath, mailbox } = await startRelay({
      snapshot: { members: [{ id: "alpha", transport, controls: OPEN }], uis: [{ id: "tui", controls: OPEN }] },
    });
    const connect = (sessionId: string, clientClass: "agent" | "ui", inbox = true) =>
      RelayClient.connect({ socketPath, bundleName: BUNDLE, sessionId, clientClass, inbox });
    // Two commands at once, as two shells would run them: no claim conflict.
    const [cmd1, cmd2] = await Promise.all([connect("tui", "ui", false), connect("tui", "ui", false)]);
    const alpha = await connect("alpha", "agent");
    try {
      const seen: unknown[] = [];
      cmd1.onEvent((e) => seen.push(e));
      cmd2.onEvent((e) => seen.push(e));
      const sent = await alpha.send({ message: "for the person", targets: ["tui"], deliveryMode: "async" });
      const id = sent.results[0]?.message_id as string;
      // Nobody reads the person's messages yet: it waits, undelivered.
      expect((await cmd1.status([id])).messages[0]).toMatchObject({ state: "pending" });
      // The person's own stream (an inbox) gets it, and the commands still run beside it.
      const inbox = await connect("tui", "ui");
      const events: { event_type: string }[] = [];
      inbox.onEvent((e) => events.push(e));
      await until("the message pushed to the inbox", () => events.some((e) => e.event_type === "incoming_message"));
      await until("delivered", async () => (await cmd2.status([id])).messages[0]?.state === "delivered");
      expect(seen).toEqual([]);
      expect((await mailbox.get(id))?.state).toBe("delivered");
      inbox.close();
    } finally {
      cmd1.close();
      cmd2.close();
      alpha.close();
    }
  });
});
