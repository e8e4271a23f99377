// The client library (relay.md §3.2 "Client"): requests and events on one stream, retries that are
// safe (connect, claim conflict) and none that are not (a written request is never replayed),
// timeouts, and the relay's errors passed through with their codes.
import { rmSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import type { RelayEvent, RelayRequestInput } from "@agentmux/common-ipc";
import { NdjsonDecoder } from "@agentmux/common-ipc";
import { onCleanup, tempDir, until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { RELAY_CLIENT_DEFAULTS, RelayClient } from "../src/client.js";
import { isRelayError } from "../src/errors.js";
import { BlockingTransport, BUNDLE, listen, OPEN, RecordingTransport, startRelay } from "./relay-helpers.js";

const transportBundle = (transport: RecordingTransport | BlockingTransport) => ({
  members: [
    { id: "alpha", transport, controls: OPEN },
    { id: "bravo", transport, controls: OPEN },
  ],
  uis: [{ id: "tui", controls: OPEN }],
});

/** A stand-in relay that speaks the wire as the test scripts it, to fail in ways a real relay would not. */
async function fakeRelay(onFrame: (frame: Record<string, unknown>, socket: Socket) => void) {
  const socketPath = join(tempDir("agentmux-fake-relay-"), "relay.sock");
  const frames: Record<string, unknown>[] = [];
  let connections = 0;
  const server = await listen(socketPath, (socket) => {
    connections += 1;
    const decoder = new NdjsonDecoder();
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      for (const d of decoder.push(chunk)) {
        if (!d.ok) continue;
        const frame = JSON.parse(d.frame) as Record<string, unknown>;
        frames.push(frame);
        onFrame(frame, socket);
      }
    });
  });
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { socketPath, frames, connections: () => connections };
}

const ack = (socket: Socket, frame: Record<string, unknown>): void => {
  socket.write(
    `${JSON.stringify({ frame: "hello_ack", schema_version: "1", bundle_name: frame.bundle_name, session_id: frame.session_id, client_class: frame.client_class })}\n`,
  );
};

async function rejection(promise: Promise<unknown>): Promise<{ code: string; details?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    if (isRelayError(err))
      return err.details === undefined ? { code: err.code } : { code: err.code, details: err.details };
    throw err;
  }
  throw new Error("expected a rejection");
}

describe("RelayClient", () => {
  it("send, list, look, raww round-trip over one stream; events arrive by callback and iterator", async () => {
    const transport = new RecordingTransport("tmux");
    const { socketPath } = await startRelay({ snapshot: transportBundle(transport) });
    const seen: RelayEvent[] = [];
    const ui = await RelayClient.connect({
      socketPath,
      bundleName: BUNDLE,
      sessionId: "tui",
      clientClass: "ui",
      onEvent: (e) => seen.push(e),
    });
    const iterator = ui.events();
    const alpha = await RelayClient.connect({
      socketPath,
      bundleName: BUNDLE,
      sessionId: "alpha",
      clientClass: "agent",
    });

    await expect(alpha.list()).resolves.toMatchObject({ bundle: { sessions: [{ id: "alpha" }, { id: "bravo" }] } });
    await expect(alpha.look("bravo", 3)).resolves.toMatchObject({
      snapshot_lines: ["bravo line 1", "bravo line 2", "bravo line 3"],
    });
    await expect(alpha.raww("bravo", "q", { noEnter: true })).resolves.toMatchObject({
      status: "accepted",
      transport: "tmux",
    });
    expect(transport.rawWrites).toEqual([{ target: "bravo", text: "q", noEnter: true }]);
    const sent = await alpha.send({ targets: ["bravo", "tui"], message: "hi both", requestId: "my-request" });
    expect(sent).toMatchObject({ request_id: "my-request", status: "success", sender_session: "alpha" });

    const fromIterator = [];
    for await (const event of iterator) {
      fromIterator.push(event);
      if (fromIterator.length === 3) break;
    }
    expect(fromIterator.map((e) => e.event_type)).toEqual(["delivery_outcome", "incoming_message", "delivery_outcome"]);
    expect(seen).toEqual(fromIterator);
    await alpha.close();
    await ui.close();
    expect(alpha.closed).toBe(true);
  });

  it("the relay's errors reject with its code and details", async () => {
    const { socketPath } = await startRelay({ snapshot: transportBundle(new RecordingTransport()) });
    const alpha = await RelayClient.connect({
      socketPath,
      bundleName: BUNDLE,
      sessionId: "alpha",
      clientClass: "agent",
    });
    expect(await rejection(alpha.look("bravo", 5000))).toMatchObject({
      code: "validation_invalid_lines",
      details: { max: 1000 },
    });
    expect(await rejection(alpha.send({ targets: ["nobody"], message: "x" }))).toEqual({
      code: "validation_unknown_target",
      details: { unknown_targets: ["nobody"] },
    });
    // A refused hello is the relay's code too, at once (not retried).
    expect(
      await rejection(
        RelayClient.connect({ socketPath, bundleName: "other", sessionId: "alpha", clientClass: "agent" }),
      ),
    ).toMatchObject({
      code: "validation_cross_bundle_unsupported",
    });
    await alpha.close();
  });

  it("transient connect errors are retried: a relay that appears within the window is reached", async () => {
    const dir = tempDir("agentmux-late-relay-");
    const socketPath = join(dir, "relay.sock");
    let acked = false;
    const startedAt = Date.now();
    const connecting = RelayClient.connect({
      socketPath,
      bundleName: BUNDLE,
      sessionId: "alpha",
      clientClass: "agent",
      retryWindowMs: 10_000,
    });
    // ENOENT for several retry intervals, then the relay is there.
    await until(
      "a few retry intervals to pass",
      () => Date.now() - startedAt > 4 * RELAY_CLIENT_DEFAULTS.retryIntervalMs,
    );
    const server = await listen(socketPath, (socket) => {
      const decoder = new NdjsonDecoder();
      socket.on("data", (chunk: Buffer) => {
        for (const d of decoder.push(chunk)) if (d.ok) ack(socket, JSON.parse(d.frame) as Record<string, unknown>);
        acked = true;
      });
    });
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const client = await connecting;
    expect(acked).toBe(true);
    await client.close();
  });

  it("a relay that is not there fails with relay_unavailable once the window has passed", async () => {
    const socketPath = join(tempDir("agentmux-no-relay-"), "relay.sock");
    rmSync(socketPath, { force: true });
    const startedAt = Date.now();
    const failure = await rejection(
      RelayClient.connect({
        socketPath,
        bundleName: BUNDLE,
        sessionId: "alpha",
        clientClass: "agent",
        retryWindowMs: 200,
      }),
    );
    expect(failure).toMatchObject({ code: "relay_unavailable", details: { errno: "ENOENT", socket_path: socketPath } });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(150);
  });

  it("a stream that breaks after a request was written rejects with relay_unavailable and never replays it", async () => {
    const fake = await fakeRelay((frame, socket) => {
      if (frame.frame === "hello") ack(socket, frame);
      else socket.destroy();
    });
    const client = await RelayClient.connect({
      socketPath: fake.socketPath,
      bundleName: BUNDLE,
      sessionId: "alpha",
      clientClass: "agent",
    });
    const failure = await rejection(client.send({ targets: ["bravo"], message: "did it arrive?" }));
    expect(failure.code).toBe("relay_unavailable");
    // Later calls fail the same way without reconnecting.
    expect((await rejection(client.list())).code).toBe("relay_unavailable");
    expect(fake.frames.filter((f) => f.frame === "request")).toHaveLength(1);
    expect(fake.connections()).toBe(1);
  });

  it("no answer in time is relay_timeout (hello and requests)", async () => {
    const silent = await fakeRelay(() => {});
    expect(
      await rejection(
        RelayClient.connect({
          socketPath: silent.socketPath,
          bundleName: BUNDLE,
          sessionId: "alpha",
          clientClass: "agent",
          helloTimeoutMs: 100,
        }),
      ),
    ).toMatchObject({ code: "relay_timeout", details: { timeout_ms: 100 } });

    const ackOnly = await fakeRelay((frame, socket) => {
      if (frame.frame === "hello") ack(socket, frame);
    });
    const client = await RelayClient.connect({
      socketPath: ackOnly.socketPath,
      bundleName: BUNDLE,
      sessionId: "alpha",
      clientClass: "agent",
      responseTimeoutMs: 100,
    });
    expect(await rejection(client.list())).toMatchObject({ code: "relay_timeout", details: { timeout_ms: 100 } });
    await client.close();
  });

  it("each request keeps its own deadline (one shared deadline timer): a short one fails, a long one still answers", async () => {
    let held: { socket: Socket; requestId: unknown }[] = [];
    const relay = await fakeRelay((frame, socket) => {
      if (frame.frame === "hello") ack(socket, frame);
      else held.push({ socket, requestId: frame.request_id });
    });
    const client = await RelayClient.connect({
      socketPath: relay.socketPath,
      bundleName: BUNDLE,
      sessionId: "alpha",
      clientClass: "agent",
    });
    const answer = (n: number): void => {
      const h = held[n];
      if (h === undefined) throw new Error(`request ${n} not seen`);
      h.socket.write(
        `${JSON.stringify({ frame: "response", request_id: h.requestId, response: { kind: "status", schema_version: "1", messages: [] } })}\n`,
      );
    };
    const status: RelayRequestInput = { operation: "status", message_ids: ["m"] };
    // A long deadline first, then a shorter one: the shorter must not wait for the longer.
    const long = client.request(status, 10_000);
    const startedShort = Date.now();
    const short = client.request(status, 100);
    expect(await rejection(short)).toMatchObject({ code: "relay_timeout", details: { timeout_ms: 100 } });
    expect(Date.now() - startedShort).toBeLessThan(5_000);
    await until("both requests to reach the relay", () => held.length === 2);
    answer(0);
    await expect(long).resolves.toMatchObject({ kind: "status" });
    // After answers and a timeout, later requests still get their own deadlines.
    held = [];
    const again = client.request(status, 100);
    const answered = client.request(status, 10_000);
    await until("both requests to reach the relay", () => held.length === 2);
    answer(1);
    await expect(answered).resolves.toMatchObject({ kind: "status" });
    expect(await rejection(again)).toMatchObject({ code: "relay_timeout", details: { timeout_ms: 100 } });
    // Two unanswered requests: the later deadline still fires after the earlier one's.
    const first = client.request(status, 100);
    const second = client.request(status, 300);
    expect(await rejection(first)).toMatchObject({ code: "relay_timeout", details: { timeout_ms: 100 } });
    expect(await rejection(second)).toMatchObject({ code: "relay_timeout", details: { timeout_ms: 300 } });
    await client.close();
  });

  it("the default response timeout outlasts a sync send's 30 s wait; a longer sync timeout extends it", async () => {
    expect(RELAY_CLIENT_DEFAULTS.responseTimeoutMs).toBeGreaterThanOrEqual(35_000);
    const transport = new BlockingTransport();
    const { socketPath } = await startRelay({ snapshot: transportBundle(transport) });
    const client = await RelayClient.connect({
      socketPath,
      bundleName: BUNDLE,
      sessionId: "alpha",
      clientClass: "agent",
      responseTimeoutMs: 100,
    });
    const sentAt = Date.now();
    const sync = client.send({ targets: ["bravo"], message: "slow target", quiescenceTimeoutMs: 60_000 });
    await until("the delivery to start", () => transport.held === 1);
    await until("the client's base timeout to have passed", () => Date.now() - sentAt > 300);
    transport.release();
    await expect(sync).resolves.toMatchObject({ status: "success" });
    await client.close();
  });

  it("close() fails what is still waiting with relay_unavailable", async () => {
    const transport = new BlockingTransport();
    const { socketPath } = await startRelay({ snapshot: transportBundle(transport) });
    const client = await RelayClient.connect({
      socketPath,
      bundleName: BUNDLE,
      sessionId: "alpha",
      clientClass: "agent",
    });
    const pending = client.send({ targets: ["bravo"], message: "never answered" });
    await until("the delivery to start", () => transport.held === 1);
    await client.close();
    expect((await rejection(pending)).code).toBe("relay_unavailable");
    transport.release();
  });
});
