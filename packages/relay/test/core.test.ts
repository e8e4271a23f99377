// The request handlers without a socket (relay.md §3.3; checks 18's raww half, 20's per-target half,
// 21, 22's sender half and 24's "accepted at once"): check order, broadcast, outcomes, mailbox first.
import { randomUUID } from "node:crypto";
import { RelayRequest, type RelayRequestInput } from "@agentmux/common-ipc";
import { describe, expect, it } from "vitest";
import { RelayCore, type RelayIdentity } from "../src/core.js";
import type { RelayDirectorySnapshot } from "../src/directory.js";
import { parseEnvelope } from "../src/envelope.js";
import { isRelayError, type RelayErrorCode } from "../src/errors.js";
import { MemoryMailbox } from "../src/mailbox.js";
import type { Controls } from "../src/policy.js";
import { DeliveryQueue } from "../src/queue.js";
import type { Mailbox, MailRecord } from "../src/transport.js";
import { BlockingTransport, BUNDLE, MutableDirectory, OPEN, RecordingTransport } from "./relay-helpers.js";

const ALPHA: RelayIdentity = { sessionId: "alpha", clientClass: "agent" };
const CLOCK = Date.parse("2025-01-02T03:04:05.000Z");

function sequentialIds(): () => string {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;
}

interface Setup {
  core: RelayCore;
  directory: MutableDirectory;
  mailbox: Mailbox;
  queue: DeliveryQueue;
  tmux: RecordingTransport;
  acp: RecordingTransport;
  logs: { event: string; details: Record<string, unknown> }[];
}

function setup(
  options: { mailbox?: Mailbox; snapshot?: (s: RelayDirectorySnapshot) => RelayDirectorySnapshot } = {},
): Setup {
  const tmux = new RecordingTransport("tmux");
  const acp = new RecordingTransport("acp");
  const base: RelayDirectorySnapshot = {
    members: [
      { id: "alpha", name: "Alpha", transport: tmux, controls: OPEN },
      { id: "bravo", name: "Bravo", transport: tmux, controls: OPEN },
      { id: "charlie", transport: acp, controls: OPEN, policyRuleId: "strict" },
    ],
    uis: [{ id: "tui", name: "Operator", controls: OPEN }],
  };
  const directory = new MutableDirectory(options.snapshot === undefined ? base : options.snapshot(base));
  const mailbox = options.mailbox ?? new MemoryMailbox();
  const never = new AbortController();
  const queue = new DeliveryQueue({
    bundleName: BUNDLE,
    mailbox,
    ui: {
      push: () => false,
      attached: () => new Promise<boolean>((resolve) => never.signal.addEventListener("abort", () => resolve(false))),
    },
    shutdownGraceMs: 0,
  });
  const logs: Setup["logs"] = [];
  const core = new RelayCore({
    bundleName: BUNDLE,
    directory,
    mailbox,
    queue,
    clock: () => CLOCK,
    ids: sequentialIds(),
    log: (event, details) => logs.push({ event, details }),
  });
  return { core, directory, mailbox, queue, tmux, acp, logs };
}

/** Parses like the server does, so defaults apply. */
function req(input: RelayRequestInput): RelayRequest {
  return RelayRequest.parse(input);
}

async function codeOf(promise: Promise<unknown>): Promise<{ code: RelayErrorCode; details?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (err) {
    if (isRelayError(err))
      return err.details === undefined ? { code: err.code } : { code: err.code, details: err.details };
    throw err;
  }
  throw new Error("expected the request to fail");
}

const chat = (fields: Partial<Extract<RelayRequestInput, { operation: "chat" }>>): RelayRequest =>
  req({ operation: "chat", message: "hi", ...fields });

const withSend = (controls: Partial<Controls>): Controls => ({ ...OPEN, ...controls });

describe("chat: check order (§3.3)", () => {
  it("21. each rule in order, validation always before authorization", async () => {
    // alpha may send nowhere, so every case below would be forbidden: each must fail on its own rule first.
    const { core } = setup({
      snapshot: (s) => ({
        ...s,
        members: s.members.map((m) => (m.id === "alpha" ? { ...m, controls: withSend({ send: "none" }) } : m)),
      }),
    });
    const ctx = { identity: ALPHA };
    const cases: [Partial<Extract<RelayRequestInput, { operation: "chat" }>>, RelayErrorCode][] = [
      [{ message: "  ", targets: [] }, "validation_invalid_arguments"],
      [{ targets: [] }, "validation_empty_targets"],
      [{ targets: ["bravo"], broadcast: true, quiescence_timeout_ms: 0 }, "validation_conflicting_targets"],
      [
        { targets: ["bravo"], quiescence_timeout_ms: 0, acp_turn_timeout_ms: 5 },
        "validation_invalid_quiescence_timeout",
      ],
      [{ targets: ["bravo"], acp_turn_timeout_ms: 0 }, "validation_invalid_acp_turn_timeout"],
      [
        { targets: ["nobody"], quiescence_timeout_ms: 5, acp_turn_timeout_ms: 5 },
        "validation_conflicting_timeout_fields",
      ],
      [{ targets: ["nobody", "charlie"], acp_turn_timeout_ms: 5 }, "validation_unknown_target"],
      [{ targets: ["charlie"], quiescence_timeout_ms: 5 }, "validation_invalid_timeout_field_for_transport"],
      [{ targets: ["bravo"] }, "authorization_forbidden"],
    ];
    for (const [fields, code] of cases) {
      expect({ fields, code: (await codeOf(core.handle(ctx, chat(fields)))).code }).toEqual({ fields, code });
    }
  });

  it("21. an unknown target beats authorization, and a display name is not an address", async () => {
    const { core } = setup({
      snapshot: (s) => ({
        ...s,
        members: s.members.map((m) => (m.id === "alpha" ? { ...m, controls: withSend({ send: "none" }) } : m)),
      }),
    });
    const failure = await codeOf(core.handle({ identity: ALPHA }, chat({ targets: ["Bravo", "bravo", "Operator"] })));
    expect(failure).toEqual({
      code: "validation_unknown_target",
      details: { unknown_targets: ["Bravo", "Operator"] },
    });
  });

  it("21. a sender no longer in the configuration is an unknown sender (checked before the targets)", async () => {
    const { core, directory } = setup();
    directory.snapshot = { ...directory.snapshot, members: directory.snapshot.members.filter((m) => m.id !== "alpha") };
    expect((await codeOf(core.handle({ identity: ALPHA }, chat({ targets: ["nobody"] })))).code).toBe(
      "validation_unknown_sender",
    );
  });

  it("a sender whose policy does not resolve is validation_unknown_policy", async () => {
    const { core } = setup({
      snapshot: (s) => ({
        ...s,
        members: s.members.map((m) =>
          m.id === "alpha" ? { id: "alpha", transport: m.transport, policyRuleId: "gone" } : m,
        ),
      }),
    });
    expect(await codeOf(core.handle({ identity: ALPHA }, chat({ targets: ["bravo"] })))).toEqual({
      code: "validation_unknown_policy",
      details: { session_id: "alpha", policy_id: "gone" },
    });
  });

  it("22. a sender_session that does not match the hello identity is rejected (before anything else)", async () => {
    const { core, tmux } = setup();
    const failure = await codeOf(
      core.handle({ identity: ALPHA }, chat({ sender_session: "bravo", message: "", targets: ["charlie"] })),
    );
    expect(failure).toEqual({
      code: "validation_invalid_params",
      details: { field: "sender_session", sender_session: "bravo", bound_session: "alpha" },
    });
    expect(tmux.deliveries).toEqual([]);
    // Naming oneself is fine.
    await expect(
      core.handle({ identity: ALPHA }, chat({ sender_session: "alpha", targets: ["bravo"] })),
    ).resolves.toMatchObject({ status: "success" });
  });
});

describe("chat: delivery", () => {
  it("21. broadcast reaches every member but the sender (and no UI)", async () => {
    const { core, tmux, acp } = setup();
    const response = await core.handle({ identity: ALPHA }, chat({ broadcast: true, message: "all hands" }));
    expect(response).toMatchObject({
      kind: "chat",
      status: "success",
      delivery_mode: "sync",
      sender_session: "alpha",
      sender_display_name: "Alpha",
    });
    if (response.kind !== "chat") throw new Error("not a chat response");
    expect(response.results.map((r) => [r.target_session, r.outcome])).toEqual([
      ["bravo", "delivered"],
      ["charlie", "delivered"],
    ]);
    expect([...tmux.deliveries, ...acp.deliveries].map((d) => d.targetSession)).toEqual(["bravo", "charlie"]);
  });

  it("21. zero targets give results=[] with accepted (async) or success (sync)", async () => {
    const { core } = setup({ snapshot: (s) => ({ ...s, members: s.members.filter((m) => m.id === "alpha") }) });
    await expect(
      core.handle({ identity: ALPHA }, chat({ broadcast: true, delivery_mode: "async" })),
    ).resolves.toMatchObject({
      status: "accepted",
      results: [],
    });
    await expect(
      core.handle({ identity: ALPHA }, chat({ broadcast: true, delivery_mode: "sync" })),
    ).resolves.toMatchObject({
      status: "success",
      results: [],
    });
  });

  it("21. mixed sync outcomes are partial; none delivered is failure", async () => {
    const flaky = new RecordingTransport("tmux", (d) =>
      d.targetSession === "bravo"
        ? { outcome: "delivered" }
        : { outcome: "timeout", reasonCode: "quiescence_timeout", reason: "pane never settled" },
    );
    const { core } = setup({
      snapshot: (s) => ({ ...s, members: s.members.map((m) => ({ ...m, transport: flaky })) }),
    });
    const mixed = await core.handle({ identity: ALPHA }, chat({ targets: ["bravo", "charlie"] }));
    expect(mixed).toMatchObject({
      status: "partial",
      results: [
        { target_session: "bravo", outcome: "delivered" },
        {
          target_session: "charlie",
          outcome: "timeout",
          reason_code: "quiescence_timeout",
          reason: "pane never settled",
        },
      ],
    });
    await expect(core.handle({ identity: ALPHA }, chat({ targets: ["charlie"] }))).resolves.toMatchObject({
      status: "failure",
    });
  });

  it("20. each target gets its own message_id and envelope; Cc lists the other targets", async () => {
    const { core, tmux, acp, logs } = setup();
    const response = await core.handle(
      { identity: ALPHA },
      chat({ targets: ["bravo", "charlie", "bravo"], message: "review please" }),
    );
    if (response.kind !== "chat") throw new Error("not a chat response");
    const ids = response.results.map((r) => r.message_id);
    expect(new Set(ids).size).toBe(2);
    const [toBravo] = tmux.to("bravo");
    const [toCharlie] = acp.to("charlie");
    if (toBravo === undefined || toCharlie === undefined) throw new Error("both targets should have a delivery");
    const bravo = parseEnvelope(toBravo.envelope);
    expect(bravo).toMatchObject({
      messageId: ids[0],
      from: { session: "alpha", display: "Alpha" },
      to: [{ session: "bravo", display: "Bravo" }],
      cc: [{ session: "charlie", display: "charlie" }],
      body: "review please",
    });
    expect(bravo.date.toISOString()).toBe(new Date(CLOCK).toISOString());
    expect(parseEnvelope(toCharlie.envelope)).toMatchObject({
      messageId: ids[1],
      to: [{ session: "charlie" }],
      cc: [{ session: "bravo" }],
    });
    expect(toBravo.ccSessions).toEqual(["charlie"]);
    // The machine metadata goes to the log, once per target.
    expect(logs.filter((l) => l.event === "relay.chat.envelope.metadata").map((l) => l.details.message_id)).toEqual(
      ids,
    );
  });

  it("24. async answers accepted with every target queued at once, before delivery", async () => {
    const blocking = new BlockingTransport("tmux");
    const { core, mailbox } = setup({
      snapshot: (s) => ({ ...s, members: s.members.map((m) => ({ ...m, transport: blocking })) }),
    });
    const response = await core.handle(
      { identity: ALPHA, frameRequestId: "frame-7" },
      chat({ targets: ["bravo"], delivery_mode: "async" }),
    );
    expect(response).toMatchObject({
      status: "accepted",
      request_id: "frame-7",
      results: [{ target_session: "bravo", outcome: "queued" }],
    });
    // Accepted means the mailbox holds it, while the transport still has it.
    expect((await mailbox.pending()).map((r) => r.targetSession)).toEqual(["bravo"]);
    blocking.release();
  });

  it("a message is acknowledged only after the mailbox accepted it; a refusing mailbox means nothing is delivered", async () => {
    let admit: (() => void) | undefined;
    const slow = new MemoryMailbox();
    const gated: Mailbox = {
      accept: async (records: readonly MailRecord[]) => {
        await new Promise<void>((resolve) => {
          admit = resolve;
        });
        return slow.accept(records);
      },
      settle: (id, state, outcome) => slow.settle(id, state, outcome),
      get: (id) => slow.get(id),
      pending: (target) => slow.pending(target),
    };
    const first = setup({ mailbox: gated });
    let answered = false;
    const pending = first.core
      .handle({ identity: ALPHA }, chat({ targets: ["bravo"], delivery_mode: "async" }))
      .then((r) => {
        answered = true;
        return r;
      });
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    expect(first.tmux.deliveries).toEqual([]);
    admit?.();
    await expect(pending).resolves.toMatchObject({ status: "accepted" });

    const refusing: Mailbox = { ...gated, accept: async () => Promise.reject(new Error("disk full")) };
    const second = setup({ mailbox: refusing });
    const failure = await codeOf(second.core.handle({ identity: ALPHA }, chat({ targets: ["bravo"] })));
    expect(failure.code).toBe("runtime_internal");
    expect(failure.details?.cause).toBe("disk full");
    expect(second.tmux.deliveries).toEqual([]);
  });

  it("chat request_id: the payload's, else the frame's", async () => {
    const { core } = setup();
    await expect(
      core.handle({ identity: ALPHA, frameRequestId: "f1" }, chat({ targets: ["bravo"], request_id: "mine" })),
    ).resolves.toMatchObject({
      request_id: "mine",
    });
  });

  it("redeliverPending() queues what the mailbox still owes, once, and fails records whose target left", async () => {
    const { core, mailbox, tmux } = setup();
    const owed = (target: string, body: string): MailRecord => ({
      messageId: randomUUID(),
      bundleName: BUNDLE,
      senderSession: "alpha",
      targetSession: target,
      ccSessions: [],
      body,
      createdAt: new Date(CLOCK).toISOString(),
      state: "pending",
    });
    const kept = owed("bravo", "from before the crash");
    const orphan = owed("gone", "to a session that was removed");
    await mailbox.accept([kept, orphan]);
    const [queued, again] = await Promise.all([core.redeliverPending(), core.redeliverPending()]);
    expect(queued + again).toBe(1);
    await expect.poll(() => mailbox.get(kept.messageId).then((r) => r?.state)).toBe("delivered");
    expect(tmux.deliveries.map((d) => [d.body, d.messageId, parseEnvelope(d.envelope).messageId])).toEqual([
      ["from before the crash", kept.messageId, kept.messageId],
    ]);
    expect(await mailbox.get(orphan.messageId)).toMatchObject({
      state: "failed",
      outcome: { reasonCode: "validation_unknown_target" },
    });
  });
});

describe("look, raww, list", () => {
  it("look: lines default to 120 and must be 1..1000; a foreign bundle and a UI target are refused", async () => {
    const { core, tmux } = setup();
    const look = (fields: Record<string, unknown>) =>
      core.handle(
        { identity: ALPHA },
        req({ operation: "look", target_session: "bravo", ...fields } as RelayRequestInput),
      );
    await expect(look({})).resolves.toMatchObject({
      kind: "look",
      snapshot_format: "lines",
      target_session: "bravo",
      requester_session: "alpha",
    });
    expect(tmux.looks).toEqual([{ target: "bravo", lines: 120 }]);
    for (const lines of [0, 1001, 1.5, -3])
      expect((await codeOf(look({ lines }))).code).toBe("validation_invalid_lines");
    await expect(look({ lines: 1000 })).resolves.toMatchObject({ kind: "look" });
    expect((await codeOf(look({ bundle_name: "other" }))).code).toBe("validation_cross_bundle_unsupported");
    expect((await codeOf(look({ target_session: "tui" }))).code).toBe("validation_invalid_params");
    expect((await codeOf(look({ target_session: "Bravo" }))).code).toBe("validation_unknown_target");
    expect((await codeOf(look({ requester_session: "bravo" }))).code).toBe("validation_invalid_params");
  });

  it("look: a non-self look under look=self is forbidden with look.inspect and the target; self is always allowed", async () => {
    const { core } = setup({
      snapshot: (s) => ({
        ...s,
        members: s.members.map((m) =>
          m.id === "alpha" ? { ...m, controls: { ...OPEN, look: "self" }, policyRuleId: "p1" } : m,
        ),
      }),
    });
    const failure = await codeOf(core.handle({ identity: ALPHA }, req({ operation: "look", target_session: "bravo" })));
    expect(failure).toMatchObject({
      code: "authorization_forbidden",
      details: {
        capability: "look.inspect",
        target_session: "bravo",
        requester_session: "alpha",
        policy_rule_id: "p1",
      },
    });
    await expect(
      core.handle({ identity: ALPHA }, req({ operation: "look", target_session: "alpha" })),
    ).resolves.toMatchObject({ kind: "look" });
  });

  it("18. raww text over 32 KiB is validation_invalid_params with max_bytes and bytes", async () => {
    const { core, tmux } = setup();
    const text = "é".repeat(16 * 1024 + 1); // 2 bytes each: 32 KiB + 2
    const failure = await codeOf(
      core.handle({ identity: ALPHA }, req({ operation: "raww", target_session: "bravo", text })),
    );
    expect(failure).toEqual({
      code: "validation_invalid_params",
      details: { max_bytes: 32 * 1024, bytes: 32 * 1024 + 2 },
    });
    expect(tmux.rawWrites).toEqual([]);
  });

  it("raww: dispatched through the transport; UI, empty and unknown targets refused; acp reports in progress", async () => {
    const { core, tmux, acp } = setup();
    await expect(
      core.handle({ identity: ALPHA }, req({ operation: "raww", target_session: "bravo", text: "y", no_enter: true })),
    ).resolves.toMatchObject({
      kind: "raww",
      status: "accepted",
      transport: "tmux",
      details: { delivery_phase: "accepted_dispatched" },
    });
    expect(tmux.rawWrites).toEqual([{ target: "bravo", text: "y", noEnter: true }]);
    await expect(
      core.handle({ identity: ALPHA }, req({ operation: "raww", target_session: "charlie", text: "z" })),
    ).resolves.toMatchObject({
      details: { delivery_phase: "accepted_in_progress" },
    });
    expect(acp.rawWrites).toHaveLength(1);
    for (const [target, code] of [
      ["tui", "validation_invalid_params"],
      ["", "validation_invalid_params"],
      ["nobody", "validation_unknown_target"],
    ] as const) {
      expect(
        (await codeOf(core.handle({ identity: ALPHA }, req({ operation: "raww", target_session: target, text: "x" }))))
          .code,
      ).toBe(code);
    }
  });

  it("raww: a transport failure is runtime_transport_write_failed", async () => {
    const broken = new RecordingTransport("tmux");
    broken.raww = async () => {
      throw new Error("no such pane");
    };
    const { core } = setup({
      snapshot: (s) => ({ ...s, members: s.members.map((m) => ({ ...m, transport: broken })) }),
    });
    const failure = await codeOf(
      core.handle({ identity: ALPHA }, req({ operation: "raww", target_session: "bravo", text: "x" })),
    );
    expect(failure).toMatchObject({ code: "runtime_transport_write_failed", details: { cause: "no such pane" } });
  });

  it("list: the members with their transports; a UI may list", async () => {
    const { core } = setup();
    await expect(
      core.handle({ identity: { sessionId: "tui", clientClass: "ui" } }, req({ operation: "list" })),
    ).resolves.toEqual({
      kind: "list",
      schema_version: "1",
      bundle_name: BUNDLE,
      bundle: {
        id: BUNDLE,
        state: "up",
        startup_health: "healthy",
        startup_failure_count: 0,
        recent_startup_failures: [],
        sessions: [
          { id: "alpha", name: "Alpha", transport: "tmux" },
          { id: "bravo", name: "Bravo", transport: "tmux" },
          { id: "charlie", transport: "acp" },
        ],
      },
    });
  });

  it("the configuration is read again for every request", async () => {
    const { core, directory } = setup();
    await expect(core.handle({ identity: ALPHA }, chat({ targets: ["delta"] }))).rejects.toMatchObject({
      code: "validation_unknown_target",
    });
    const delta = new RecordingTransport("tmux");
    directory.snapshot = {
      ...directory.snapshot,
      members: [...directory.snapshot.members, { id: "delta", transport: delta, controls: OPEN }],
    };
    await expect(core.handle({ identity: ALPHA }, chat({ targets: ["delta"] }))).resolves.toMatchObject({
      status: "success",
    });
    expect(delta.deliveries).toHaveLength(1);
  });
});
