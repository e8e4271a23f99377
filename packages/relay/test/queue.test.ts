// The delivery queues (relay.md §3.5 "Async queue"; checks 13 and 24's queue half): FIFO per target,
// targets in parallel, no deduplication, mailbox settled after delivery, and what a shutdown leaves.
import { randomUUID } from "node:crypto";
import type { RelayEvent } from "@agentmux/common-ipc";
import { until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { MemoryMailbox } from "../src/mailbox.js";
import { DeliveryQueue, type QueueItem, type QueueTarget, type UiEndpoints } from "../src/queue.js";
import type { DeliveryOutcome, MailRecord, Transport } from "../src/transport.js";
import { BlockingTransport, BUNDLE, RecordingTransport } from "./relay-helpers.js";

/** UI streams in memory: the socket side is covered by server.test.ts. */
class MemoryUi implements UiEndpoints {
  readonly events: RelayEvent[] = [];
  readonly connected = new Set<string>();
  readonly #waiters = new Map<string, (() => void)[]>();

  push(session: string, event: RelayEvent): boolean {
    if (!this.connected.has(session)) return false;
    this.events.push(event);
    return true;
  }

  attached(session: string, signal: AbortSignal): Promise<boolean> {
    if (this.connected.has(session)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const list = this.#waiters.get(session) ?? [];
      list.push(() => resolve(true));
      this.#waiters.set(session, list);
      signal.addEventListener("abort", () => resolve(false), { once: true });
    });
  }

  connect(session: string): void {
    this.connected.add(session);
    for (const wake of this.#waiters.get(session) ?? []) wake();
    this.#waiters.delete(session);
  }
}

function record(target: string, body: string, sender = "alpha"): MailRecord {
  return {
    messageId: randomUUID(),
    bundleName: BUNDLE,
    senderSession: sender,
    targetSession: target,
    ccSessions: [],
    body,
    createdAt: new Date(0).toISOString(),
    state: "pending",
  };
}

function setup(options: { shutdownGraceMs?: number; uiSyncTimeoutMs?: number } = {}) {
  const mailbox = new MemoryMailbox();
  const ui = new MemoryUi();
  const queue = new DeliveryQueue({ bundleName: BUNDLE, mailbox, ui, shutdownGraceMs: 0, ...options });
  const submit = async (
    target: string,
    body: string,
    to: QueueTarget,
    extra: Partial<QueueItem> = {},
  ): Promise<{ item: QueueItem; outcome: Promise<DeliveryOutcome> }> => {
    const item: QueueItem = {
      record: record(target, body),
      envelope: `envelope of ${body}`,
      mode: "async",
      target: to,
      ...extra,
    };
    await mailbox.accept([item.record]);
    return { item, outcome: queue.submit(item) };
  };
  return { mailbox, ui, queue, submit };
}

const member = (transport: Transport): QueueTarget => ({ kind: "member", transport });

describe("DeliveryQueue", () => {
  it("24. FIFO per target, no deduplication: the same text twice is delivered twice, in order", async () => {
    const { submit, mailbox } = setup();
    const transport = new BlockingTransport();
    const first = await submit("bravo", "same text", member(transport));
    const second = await submit("bravo", "other text", member(transport));
    const third = await submit("bravo", "same text", member(transport));
    await until("the first delivery to start", () => transport.started.length === 1);
    // Only one delivery per target at a time: the others wait their turn.
    expect(transport.held).toBe(1);
    transport.release();
    await until("the second delivery to start", () => transport.started.length === 2);
    transport.release();
    await until("the third delivery to start", () => transport.started.length === 3);
    transport.release();
    await expect(Promise.all([first.outcome, second.outcome, third.outcome])).resolves.toEqual([
      { outcome: "delivered" },
      { outcome: "delivered" },
      { outcome: "delivered" },
    ]);
    expect(transport.started.map((d) => d.body)).toEqual(["same text", "other text", "same text"]);
    expect(new Set(transport.started.map((d) => d.messageId)).size).toBe(3);
    expect((await mailbox.get(first.item.record.messageId))?.state).toBe("delivered");
    expect(await mailbox.pending()).toEqual([]);
  });

  it("24. targets proceed independently: a held target does not delay another", async () => {
    const { submit } = setup();
    const slow = new BlockingTransport();
    const fast = new RecordingTransport();
    const held = await submit("bravo", "to bravo", member(slow));
    const other = await submit("charlie", "to charlie", member(fast));
    await expect(other.outcome).resolves.toEqual({ outcome: "delivered" });
    expect(slow.held).toBe(1);
    slow.release();
    await expect(held.outcome).resolves.toEqual({ outcome: "delivered" });
  });

  it("a failed delivery settles the mailbox as failed; a throwing transport is a failed outcome, not a crash", async () => {
    const { submit, mailbox } = setup();
    const refusing = new RecordingTransport("test", () => ({ outcome: "timeout", reasonCode: "quiescence_timeout" }));
    const timedOut = await submit("bravo", "x", member(refusing));
    await expect(timedOut.outcome).resolves.toEqual({ outcome: "timeout", reasonCode: "quiescence_timeout" });
    expect(await mailbox.get(timedOut.item.record.messageId)).toMatchObject({
      state: "failed",
      outcome: { outcome: "timeout" },
    });

    const broken: Transport = {
      kind: "broken",
      deliver: async () => {
        throw new Error("pane vanished");
      },
      look: async () => ({ format: "lines", lines: [] }),
    };
    const failed = await submit("charlie", "y", member(broken));
    await expect(failed.outcome).resolves.toMatchObject({
      outcome: "failed",
      reasonCode: "runtime_transport_write_failed",
    });
    expect((await failed.outcome).reason).toContain("pane vanished");
  });

  it("13. on close, what is queued becomes dropped_on_shutdown and stays pending in the mailbox", async () => {
    const { submit, mailbox, queue } = setup();
    const transport = new BlockingTransport();
    const inFlight = await submit("bravo", "first", member(transport));
    const queued = await submit("bravo", "second", member(transport));
    await until("the first delivery to start", () => transport.held === 1);
    await queue.close();
    await expect(inFlight.outcome).resolves.toMatchObject({ outcome: "dropped_on_shutdown" });
    await expect(queued.outcome).resolves.toMatchObject({
      outcome: "dropped_on_shutdown",
      reasonCode: "dropped_on_shutdown",
    });
    // The second one never reached the transport.
    expect(transport.started.map((d) => d.body)).toEqual(["first"]);
    // Both are still owed: a durable mailbox hands them to the next relay.
    expect((await mailbox.pending()).map((r) => r.body)).toEqual(["first", "second"]);
    // After close, a submission is dropped at once.
    const late = await submit("bravo", "late", member(transport));
    await expect(late.outcome).resolves.toMatchObject({ outcome: "dropped_on_shutdown" });
  });

  it("13. the shutdown grace lets running deliveries finish before anything is dropped", async () => {
    const { submit, queue } = setup({ shutdownGraceMs: 30_000 });
    const transport = new BlockingTransport();
    const running = await submit("bravo", "first", member(transport));
    await until("the delivery to start", () => transport.held === 1);
    const closing = queue.close();
    transport.release();
    await closing;
    await expect(running.outcome).resolves.toEqual({ outcome: "delivered" });
  });

  it("a transport that ignores the abort does not hold the shutdown", async () => {
    const { submit, queue } = setup();
    const deaf: Transport = {
      kind: "deaf",
      deliver: () => new Promise(() => {}),
      look: async () => ({ format: "lines", lines: [] }),
    };
    const stuck = await submit("bravo", "x", member(deaf));
    await queue.close();
    await expect(stuck.outcome).resolves.toMatchObject({ outcome: "dropped_on_shutdown" });
  });

  it("several deliveries in flight at shutdown (one shared abort listener) are all dropped; finished ones stay delivered", async () => {
    const { submit, queue, mailbox } = setup();
    const deaf: Transport = {
      kind: "deaf",
      deliver: () => new Promise(() => {}),
      look: async () => ({ format: "lines", lines: [] }),
    };
    const done = await submit("alpha", "early", member(new RecordingTransport()));
    await expect(done.outcome).resolves.toEqual({ outcome: "delivered" });
    const stuck = await Promise.all(["bravo", "charlie", "delta"].map((t) => submit(t, "x", member(deaf))));
    await queue.close();
    for (const s of stuck) await expect(s.outcome).resolves.toMatchObject({ outcome: "dropped_on_shutdown" });
    expect(await mailbox.get(done.item.record.messageId)).toMatchObject({ state: "delivered" });
    for (const s of stuck) expect(await mailbox.get(s.item.record.messageId)).toMatchObject({ state: "pending" });
  });

  it("UI targets: routed, incoming_message, delivered; a disconnected UI is waited for, then served", async () => {
    const { submit, ui } = setup();
    const sent = await submit("tui", "hello ui", { kind: "ui" });
    expect(ui.events).toEqual([]);
    ui.connect("tui");
    await expect(sent.outcome).resolves.toEqual({ outcome: "delivered" });
    expect(ui.events.map((e) => [e.event_type, e.payload.phase])).toEqual([
      ["delivery_outcome", "routed"],
      ["incoming_message", undefined],
      ["delivery_outcome", "delivered"],
    ]);
    expect(ui.events[1]?.payload).toEqual({
      message_id: sent.item.record.messageId,
      sender_session: "alpha",
      body: "hello ui",
      cc_sessions: [],
    });
    expect(ui.events[2]?.payload).toMatchObject({ outcome: "success" });
  });

  it("a sync delivery to a UI that stays away times out", async () => {
    const { submit, mailbox } = setup({ uiSyncTimeoutMs: 50 });
    const sent = await submit("tui", "anyone?", { kind: "ui" }, { mode: "sync" });
    await expect(sent.outcome).resolves.toMatchObject({ outcome: "timeout", reasonCode: "ui_stream_disconnected" });
    expect((await mailbox.get(sent.item.record.messageId))?.state).toBe("failed");
  });

  it("13. a dropped message is reported to a connected UI target and to a UI sender", async () => {
    const { submit, ui, queue } = setup();
    ui.connect("watcher");
    const transport = new BlockingTransport();
    const fromUi = await submit("bravo", "from the ui", member(transport), {
      record: record("bravo", "from the ui", "watcher"),
      senderIsUi: true,
    });
    await until("the delivery to start", () => transport.held === 1);
    await queue.close();
    await expect(fromUi.outcome).resolves.toMatchObject({ outcome: "dropped_on_shutdown" });
    expect(ui.events).toHaveLength(1);
    expect(ui.events[0]).toMatchObject({
      event_type: "delivery_outcome",
      target_session: "watcher",
      payload: {
        message_id: fromUi.item.record.messageId,
        phase: "failed",
        reason_code: "dropped_on_shutdown",
        target_session: "bravo",
      },
    });
  });

  it("has() knows what is queued, so a redelivery pass cannot queue a message twice", async () => {
    const { submit, queue } = setup();
    const transport = new BlockingTransport();
    const sent = await submit("bravo", "x", member(transport));
    expect(queue.has(sent.item.record.messageId)).toBe(true);
    expect(queue.depth).toBe(1);
    await until("the delivery to start", () => transport.held === 1);
    transport.release();
    await sent.outcome;
    expect(queue.has(sent.item.record.messageId)).toBe(false);
    expect(queue.depth).toBe(0);
  });
});
