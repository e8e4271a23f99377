// The status query (an agentmux extension): a sender sees where its messages are.
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
