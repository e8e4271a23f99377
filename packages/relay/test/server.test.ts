// The relay wire over real Unix sockets (relay.md §3.1–3.2, §3.5 UI targets; checks 13–19, 22's last
// bullet and 24's "accepted at once"): hello, identity claims, malformed and oversized frames,
// limits, UI deliveries and shutdown.
import { until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { RelayClient } from "../src/client.js";
import type { RelayDirectorySnapshot } from "../src/directory.js";
import { RELAY_SERVER_DEFAULTS } from "../src/server.js";
import type { Transport } from "../src/transport.js";
import {
  BlockingTransport,
  BUNDLE,
  errorOf,
  GatedDirectory,
  OPEN,
  RawStream,
  RecordingTransport,
  startRelay,
} from "./relay-helpers.js";

function bundle(transport: Transport = new RecordingTransport()): RelayDirectorySnapshot {
  return {
    members: [
      { id: "alpha", name: "Alpha", transport, controls: OPEN },
      { id: "bravo", transport, controls: OPEN },
    ],
    uis: [
      { id: "tui", name: "Operator", controls: OPEN },
      { id: "nopolicy", policyRuleId: "missing" },
    ],
  };
}

const connect = (socketPath: string, sessionId: string, clientClass: "agent" | "ui" = "agent") =>
  RelayClient.connect({ socketPath, bundleName: BUNDLE, sessionId, clientClass });

describe("hello (§3.2)", () => {
  it("14. a valid hello gets hello_ack echoing the identity", async () => {
    const { socketPath } = await startRelay({ snapshot: bundle() });
    const agent = await RawStream.open(socketPath);
    agent.hello("alpha");
    expect(await agent.next()).toEqual({
      frame: "hello_ack",
      schema_version: "1",
      bundle_name: BUNDLE,
      session_id: "alpha",
      client_class: "agent",
    });
    const ui = await RawStream.open(socketPath);
    ui.hello("tui", "ui");
    expect(await ui.next()).toMatchObject({ frame: "hello_ack", session_id: "tui", client_class: "ui" });
  });

  it("14. bad schema, wrong bundle, unknown sender, unknown UI policy: exact code, no request_id, close, nothing registered", async () => {
    const { socketPath, relay } = await startRelay({ snapshot: bundle() });
    const cases: [Record<string, unknown>, string][] = [
      [{ session_id: "alpha", schema_version: "2" }, "validation_invalid_schema_version"],
      [{ session_id: "alpha", bundle_name: "elsewhere" }, "validation_cross_bundle_unsupported"],
      [{ session_id: "zulu" }, "validation_unknown_sender"],
      [{ session_id: "tui" }, "validation_unknown_sender"], // a UI id is not an agent
      [{ session_id: "alpha", client_class: "ui" }, "validation_unknown_sender"], // nor is an agent a configured UI
      [{ session_id: "nopolicy", client_class: "ui" }, "validation_unknown_policy"],
    ];
    for (const [fields, code] of cases) {
      const stream = await RawStream.open(socketPath);
      stream.send({ frame: "hello", schema_version: "1", bundle_name: BUNDLE, client_class: "agent", ...fields });
      const frame = await stream.next();
      expect({ fields, code: errorOf(frame).code, requestId: frame.request_id }).toEqual({
        fields,
        code,
        requestId: undefined,
      });
      await stream.waitClosed();
      expect(stream.frames).toHaveLength(1);
    }
    await until("the refused connections to be gone", () => relay.connectionCount === 0);
    // Nothing was registered: alpha can still say hello, with no claim conflict.
    const alpha = await RawStream.open(socketPath);
    alpha.hello("alpha");
    expect(await alpha.next()).toMatchObject({ frame: "hello_ack" });
  });

  it("15. a request before hello gets validation_missing_hello with its request_id; the stream stays open and hello still works", async () => {
    const { socketPath } = await startRelay({ snapshot: bundle() });
    const stream = await RawStream.open(socketPath);
    stream.request("early-1", { operation: "list" });
    const early = await stream.next();
    expect(early.request_id).toBe("early-1");
    expect(errorOf(early).code).toBe("validation_missing_hello");
    stream.hello("alpha");
    expect(await stream.next()).toMatchObject({ frame: "hello_ack" });
    stream.request("r2", { operation: "list" });
    expect(await stream.next()).toMatchObject({ frame: "response", request_id: "r2", response: { kind: "list" } });
    expect(stream.closed).toBe(false);
  });

  it("16. a duplicate live hello is runtime_identity_claim_conflict naming the existing connection", async () => {
    const { socketPath } = await startRelay({ snapshot: bundle() });
    const first = await RawStream.open(socketPath);
    first.hello("alpha");
    await first.next();
    const second = await RawStream.open(socketPath);
    second.hello("alpha");
    const conflict = errorOf(await second.next());
    expect(conflict.code).toBe("runtime_identity_claim_conflict");
    expect(conflict.details).toMatchObject({
      bundle_name: BUNDLE,
      session_id: "alpha",
      existing_connection_id: expect.stringMatching(/^c\d+$/),
    });
    await second.waitClosed();
    // The first stream is unaffected.
    first.request("still-here", { operation: "list" });
    expect(await first.next()).toMatchObject({ request_id: "still-here", response: { kind: "list" } });
  });

  it("16. a reclaim after disconnect succeeds: the client retries the conflict for up to a second", async () => {
    const { socketPath } = await startRelay({ snapshot: bundle() });
    const first = await connect(socketPath, "alpha");
    let secondConnected = false;
    const second = connect(socketPath, "alpha").then((c) => {
      secondConnected = true;
      return c;
    });
    // The second client is being refused (conflict) and retrying; end the first stream.
    await until("the second client to be retrying", async () => {
      const probe = await RawStream.open(socketPath);
      probe.hello("alpha");
      return errorOf(await probe.next()).code === "runtime_identity_claim_conflict";
    });
    expect(secondConnected).toBe(false);
    await first.close();
    const reclaimed = await second;
    await expect(reclaimed.list()).resolves.toMatchObject({ kind: "list" });
    await reclaimed.close();
  });

  it("16. a superseded stream gets validation_stale_stream_binding and is closed", async () => {
    const directory = new GatedDirectory(bundle());
    const { socketPath } = await startRelay({ directory });
    const old = await RawStream.open(socketPath);
    old.hello("alpha");
    await old.next();
    directory.gated = true;
    // The old stream asks something, then half-closes: it can send nothing more, so its identity may be taken over.
    old.request("late", { operation: "list" });
    await until("the old stream's request to wait for the configuration", () => directory.heldCount === 1);
    old.socket.end();
    const fresh = await RawStream.open(socketPath);
    fresh.hello("alpha");
    await until("the new hello to wait for the configuration", () => directory.heldCount === 2);
    directory.open(1);
    expect(await fresh.next()).toMatchObject({ frame: "hello_ack", session_id: "alpha" });
    directory.open(0);
    const stale = await old.next();
    expect(stale.request_id).toBe("late");
    expect(errorOf(stale)).toMatchObject({ code: "validation_stale_stream_binding", details: { session_id: "alpha" } });
    await old.waitClosed();
    // The new holder serves on.
    directory.gated = false;
    fresh.request("mine", { operation: "list" });
    expect(await fresh.next()).toMatchObject({ request_id: "mine", response: { kind: "list" } });
  });
});

describe("malformed and oversized frames", () => {
  it("17. bad JSON, an unknown frame or an unknown operation: one validation_invalid_arguments line, close; other streams unaffected", async () => {
    const { socketPath } = await startRelay({ snapshot: bundle() });
    const bystander = await RawStream.open(socketPath);
    bystander.hello("bravo");
    await bystander.next();
    const bad = [
      "{not json\n",
      `${JSON.stringify({ frame: "goodbye" })}\n`,
      `${JSON.stringify({ frame: "request", request_id: "x", request: { operation: "up" } })}\n`,
      `${JSON.stringify({ frame: "hello", schema_version: "1", bundle_name: BUNDLE, session_id: "alpha", client_class: "agent", extra: 1 })}\n`,
    ];
    for (const line of bad) {
      const stream = await RawStream.open(socketPath);
      stream.hello("alpha");
      await stream.next();
      stream.send(line);
      const error = errorOf(await stream.next());
      expect({ line, code: error.code, message: error.message }).toEqual({
        line,
        code: "validation_invalid_arguments",
        message: "failed to parse relay request",
      });
      expect(typeof error.details?.cause).toBe("string");
      await stream.waitClosed();
      expect(stream.frames).toHaveLength(2);
    }
    bystander.request("ok", { operation: "list" });
    expect(await bystander.next()).toMatchObject({ request_id: "ok", response: { kind: "list" } });
  });

  it("18. a line over the cap (1 MiB, no newline) gets runtime_frame_too_large at once and the stream closes", async () => {
    const { socketPath, relay } = await startRelay({ snapshot: bundle() });
    expect(RELAY_SERVER_DEFAULTS.maxFrameBytes).toBe(1024 * 1024);
    const stream = await RawStream.open(socketPath);
    stream.hello("alpha");
    await stream.next();
    // Just over the cap and no newline: the relay must answer without waiting for the end of the line.
    stream.send("x".repeat(1024 * 1024 + 2));
    const error = errorOf(await stream.next());
    expect(error).toMatchObject({ code: "runtime_frame_too_large", details: { max_bytes: 1024 * 1024 } });
    await stream.waitClosed();
    await until("the connection to be released", () => relay.connectionCount === 0);
  });

  it("18. the cap is configurable; the stream is closed even while the client keeps sending", async () => {
    const { socketPath } = await startRelay({ snapshot: bundle(), maxFrameBytes: 1024 });
    const stream = await RawStream.open(socketPath);
    stream.send(
      `${JSON.stringify({ frame: "request", request_id: "big", request: { operation: "chat", message: "m".repeat(2000), targets: ["bravo"] } })}\n`,
    );
    expect(errorOf(await stream.next()).code).toBe("runtime_frame_too_large");
    for (let i = 0; i < 64 && !stream.closed; i++) stream.send("y".repeat(64 * 1024));
    await stream.waitClosed();
  });
});

describe("limits", () => {
  it("19. a connection that says nothing is closed silently after the pre-hello timeout (default 2 s)", async () => {
    expect(RELAY_SERVER_DEFAULTS.preHelloTimeoutMs).toBe(2000);
    const { socketPath, relay } = await startRelay({ snapshot: bundle(), preHelloTimeoutMs: 150 });
    const idle = await RawStream.open(socketPath);
    const startedAt = Date.now();
    await idle.waitClosed();
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(100);
    expect(idle.received).toBe(0);
    // After hello the timer is gone.
    const bound = await RawStream.open(socketPath);
    bound.hello("alpha");
    await bound.next();
    const boundAt = Date.now();
    await until("well past the pre-hello timeout", () => Date.now() - boundAt > 400);
    expect(bound.closed).toBe(false);
    expect(relay.connectionCount).toBe(1);
  });

  it("19. past the connection cap: one runtime_connection_queue_full line and close; capacity recovers", async () => {
    const { socketPath, relay } = await startRelay({ snapshot: bundle(), maxConnections: 2 });
    const a = await RawStream.open(socketPath);
    const b = await RawStream.open(socketPath);
    await until("two connections", () => relay.connectionCount === 2);
    const refused = await RawStream.open(socketPath);
    expect(errorOf(await refused.next())).toMatchObject({
      code: "runtime_connection_queue_full",
      details: { max_connections: 2 },
    });
    await refused.waitClosed();
    a.socket.destroy();
    await until("a slot to free up", () => relay.connectionCount === 1);
    const admitted = await RawStream.open(socketPath);
    admitted.hello("alpha");
    expect(await admitted.next()).toMatchObject({ frame: "hello_ack" });
    b.hello("bravo");
    expect(await b.next()).toMatchObject({ frame: "hello_ack" });
  });

  it("a client that stops reading is cut off once its backlog passes maxPendingWriteBytes; its identity is free again", async () => {
    const { socketPath, relay } = await startRelay({ snapshot: bundle(), maxPendingWriteBytes: 64 * 1024 });
    const stalled = await RawStream.open(socketPath);
    stalled.hello("tui", "ui");
    await stalled.next();
    stalled.socket.pause();
    const alpha = await connect(socketPath, "alpha");
    const body = "b".repeat(100 * 1024);
    for (let i = 0; i < 40; i++) await alpha.send({ targets: ["tui"], message: `${i} ${body}`, deliveryMode: "async" });
    await until("the stalled stream to be dropped", () => relay.connectionCount === 1);
    // The undelivered messages wait for the UI's next stream.
    const back = await connect(socketPath, "tui", "ui");
    const events = back.events();
    const first = await events.next();
    expect(first.value?.event_type).toBe("delivery_outcome");
    await events.return?.();
    await back.close();
    await alpha.close();
  });
});

describe("requests over the stream", () => {
  it("22. a sender_session that does not match the hello identity is rejected", async () => {
    const transport = new RecordingTransport();
    const { socketPath } = await startRelay({ snapshot: bundle(transport) });
    const stream = await RawStream.open(socketPath);
    stream.hello("alpha");
    await stream.next();
    stream.request("forged", {
      operation: "chat",
      sender_session: "bravo",
      message: "it was bravo",
      targets: ["alpha"],
    });
    const forged = await stream.response("forged");
    expect(errorOf(forged)).toMatchObject({
      code: "validation_invalid_params",
      details: { sender_session: "bravo", bound_session: "alpha" },
    });
    stream.request("forged-look", { operation: "look", requester_session: "bravo", target_session: "alpha" });
    expect(errorOf(await stream.response("forged-look")).code).toBe("validation_invalid_params");
    stream.request("forged-raww", { operation: "raww", sender_session: "bravo", target_session: "alpha", text: "x" });
    expect(errorOf(await stream.response("forged-raww")).code).toBe("validation_invalid_params");
    expect(transport.deliveries).toEqual([]);
    // The stream stays usable, and without a sender field the bound identity is the sender.
    stream.request("honest", { operation: "chat", message: "it was alpha", targets: ["bravo"] });
    expect(await stream.response("honest")).toMatchObject({
      response: { kind: "chat", sender_session: "alpha", status: "success" },
    });
    expect(transport.deliveries.map((d) => d.senderSession)).toEqual(["alpha"]);
  });

  it("24. async: accepted/queued at once while the target is busy; FIFO per target, no deduplication", async () => {
    const transport = new BlockingTransport();
    const { socketPath } = await startRelay({ snapshot: bundle(transport) });
    const alpha = await connect(socketPath, "alpha");
    const responses = [];
    for (const message of ["one", "two", "one"]) {
      responses.push(await alpha.send({ targets: ["bravo"], message, deliveryMode: "async" }));
    }
    expect(responses.map((r) => [r.status, r.results[0]?.outcome])).toEqual([
      ["accepted", "queued"],
      ["accepted", "queued"],
      ["accepted", "queued"],
    ]);
    for (let n = 1; n <= 3; n++) {
      await until(`delivery ${n} to start`, () => transport.started.length === n);
      transport.release();
    }
    expect(transport.started.map((d) => d.body)).toEqual(["one", "two", "one"]);
    expect(transport.started.map((d) => d.messageId)).toEqual(responses.map((r) => r.results[0]?.message_id));
    await alpha.close();
  });

  it("a sync send answers with the delivery outcome, while other requests on the same stream are answered meanwhile", async () => {
    const transport = new BlockingTransport();
    const { socketPath } = await startRelay({ snapshot: bundle(transport) });
    const alpha = await connect(socketPath, "alpha");
    const sync = alpha.send({ targets: ["bravo"], message: "wait for me" });
    await until("the delivery to start", () => transport.held === 1);
    await expect(alpha.list()).resolves.toMatchObject({ kind: "list" });
    transport.release();
    await expect(sync).resolves.toMatchObject({
      status: "success",
      delivery_mode: "sync",
      results: [{ outcome: "delivered" }],
    });
    await alpha.close();
  });
});

describe("UI targets (§3.5)", () => {
  it("a UI receives routed → incoming_message → delivered; while away the message waits for its reconnect", async () => {
    const { socketPath } = await startRelay({ snapshot: bundle() });
    const alpha = await connect(socketPath, "alpha");
    const sent = await alpha.send({ targets: ["tui", "bravo"], message: "for the operator", deliveryMode: "async" });
    const forUi = sent.results.find((r) => r.target_session === "tui");
    const ui = await RawStream.open(socketPath);
    ui.hello("tui", "ui");
    expect(await ui.next()).toMatchObject({ frame: "hello_ack" });
    const events = [await ui.next(), await ui.next(), await ui.next()].map(
      (f) => (f as { event: Record<string, unknown> }).event,
    );
    expect(events.map((e) => [e.event_type, (e.payload as Record<string, unknown>).phase])).toEqual([
      ["delivery_outcome", "routed"],
      ["incoming_message", undefined],
      ["delivery_outcome", "delivered"],
    ]);
    expect(events[1]).toMatchObject({
      bundle_name: BUNDLE,
      target_session: "tui",
      payload: {
        message_id: forUi?.message_id,
        sender_session: "alpha",
        body: "for the operator",
        cc_sessions: ["bravo"],
      },
    });
    expect(events[0]?.payload).toMatchObject({ outcome: null });
    expect(events[2]?.payload).toMatchObject({ outcome: "success" });
    await alpha.close();
  });

  it("a sync send to a connected UI is delivered through the client's event stream", async () => {
    const { socketPath } = await startRelay({ snapshot: bundle() });
    const ui = await connect(socketPath, "tui", "ui");
    const events = ui.events();
    const alpha = await connect(socketPath, "alpha");
    await expect(alpha.send({ targets: ["tui"], message: "sync to ui" })).resolves.toMatchObject({ status: "success" });
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await events.next()).value);
    expect(seen.map((e) => e?.event_type)).toEqual(["delivery_outcome", "incoming_message", "delivery_outcome"]);
    await events.return?.();
    await alpha.close();
    await ui.close();
  });
});

describe("shutdown", () => {
  it("13. close(): queued items become dropped_on_shutdown; a waiting sync sender is told; UI senders get phase=failed", async () => {
    const transport = new BlockingTransport();
    const { socketPath, relay, mailbox } = await startRelay({ snapshot: bundle(transport) });
    const alpha = await connect(socketPath, "alpha");
    const ui = await RawStream.open(socketPath);
    ui.hello("tui", "ui");
    await ui.next();
    const sync = alpha.send({ targets: ["bravo"], message: "held in flight" });
    await until("the delivery to start", () => transport.held === 1);
    const queued = await alpha.send({ targets: ["bravo"], message: "queued behind", deliveryMode: "async" });
    ui.request("ui-send", {
      operation: "chat",
      message: "from the operator",
      targets: ["bravo"],
      delivery_mode: "async",
    });
    const uiAccepted = await ui.response("ui-send");
    expect(uiAccepted).toMatchObject({ response: { status: "accepted" } });

    await relay.close();

    const syncResult = await sync;
    expect(syncResult.results).toMatchObject([{ outcome: "dropped_on_shutdown" }]);
    const uiMessageId = (uiAccepted.response as { results: { message_id: string }[] }).results[0]?.message_id;
    const failed = ui.frames.find((f) => f.frame === "event");
    expect(failed).toMatchObject({
      event: {
        event_type: "delivery_outcome",
        target_session: "tui",
        payload: {
          message_id: uiMessageId,
          phase: "failed",
          reason_code: "dropped_on_shutdown",
          target_session: "bravo",
        },
      },
    });
    // Only the first ever reached the transport; all three stay owed in the mailbox.
    expect(transport.started.map((d) => d.body)).toEqual(["held in flight"]);
    expect((await mailbox.pending()).map((r) => r.body)).toEqual([
      "held in flight",
      "queued behind",
      "from the operator",
    ]);
    expect(queued.status).toBe("accepted");
    await ui.waitClosed();
    await until("the client to see the stream end", () => alpha.closed);
    // A closed relay takes no new streams.
    const late = await RawStream.open(socketPath);
    await late.waitClosed();
    expect(late.received).toBe(0);
  });
});
