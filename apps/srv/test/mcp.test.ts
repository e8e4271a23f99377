// The MCP server agents use to message each other (relay.md §5; §8 check 25). The server runs as
// a real child (`node dist/mcp-main.js`, so srv must be built) and is talked to by the SDK's own
// client over stdio; the relay is a real `RelayServer` on a Unix socket in a temp dir.
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { NdjsonDecoder } from "@agentmux/common-ipc";
import type { Transport } from "@agentmux/relay";
import { type Controls, isRelayError, RelayClient, type RelaySendInput } from "@agentmux/relay";
import { isRunning, onCleanup, tempDir, until } from "@agentmux/testkit";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { formatMcpArgv, parseMcpArgv } from "../src/mcp/args.js";
import { AgentMcpServer } from "../src/mcp/server.js";
import { isSenderLike } from "../src/mcp/tools.js";
import { type McpChild, runMcpMain, startMcp } from "./fixtures/mcp/mcp-child.js";
import {
  BlockingTransport,
  BUNDLE,
  OPEN,
  RecordingTransport,
  startRelay,
  startRelayProcess,
} from "./fixtures/mcp/relay.js";

/** A socket path in a fresh temp dir, with nothing listening on it yet. */
function freshSocketPath(): string {
  return join(tempDir("agentmux-mcp-"), "relay.sock");
}

/** alice (the MCP server's identity) and bob, sharing one transport. */
function bundleOf(transport: Transport, aliceControls: Controls = OPEN) {
  return {
    members: [
      { id: "alice", transport, controls: aliceControls, policyRuleId: "alice-policy" },
      { id: "bob", transport, controls: OPEN },
    ],
    uis: [],
  };
}

function mcpAs(socketPath: string, session = "alice"): Promise<McpChild> {
  return startMcp({ socketPath, bundle: BUNDLE, session });
}

describe("the MCP tool surface", () => {
  it("25. tools/list is exactly list, help, look, send; raww is not offered", async () => {
    const mcp = await mcpAs(freshSocketPath());
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["help", "list", "look", "send"]);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe("object");
      // Strict schemas: an agent is told up front that no other field (a sender, say) is taken.
      expect(tool.inputSchema.additionalProperties).toBe(false);
      expect(Object.keys(tool.inputSchema.properties ?? {}).filter(isSenderLike)).toEqual([]);
    }
    const raww = await mcp.fail("raww", { target_session: "bob", text: "rm -rf /" });
    expect(raww.rpcCode).toBe(ErrorCode.InvalidParams);
    expect(raww.data.code).toBe("validation_invalid_params");
  });

  it("§5 each tool answers once with the relay's JSON; a send goes out as the server's identity", async () => {
    const transport = new RecordingTransport();
    const { socketPath } = await startRelay(freshSocketPath(), bundleOf(transport));
    const mcp = await mcpAs(socketPath);

    const list = await mcp.ok("list", { command: "sessions" });
    expect(list).toMatchObject({ kind: "list", bundle_name: BUNDLE, bundle: { state: "up" } });
    expect((list.bundle as { sessions: { id: string }[] }).sessions.map((s) => s.id)).toEqual(["alice", "bob"]);

    const inventory = await mcp.ok("help");
    expect((inventory.tools as { name: string }[]).map((t) => t.name)).toEqual(["list", "help", "look", "send"]);
    expect(inventory).toMatchObject({ bundle_name: BUNDLE, session_id: "alice" });
    const sendHelp = await mcp.ok("help", { query: "send" });
    expect(sendHelp).toMatchObject({ tool: "send", invoke: { tool: "send" } });
    expect(Object.keys((sendHelp.args_schema as { properties: object }).properties)).toEqual([
      "message",
      "targets",
      "broadcast",
      "delivery_mode",
      "quiescence_timeout_ms",
      "acp_turn_timeout_ms",
      "request_id",
    ]);
    expect(await mcp.ok("help", { query: "list.sessions" })).toMatchObject({ tool: "list" });

    const look = await mcp.ok("look", { target_session: "bob", lines: 3 });
    expect(look).toMatchObject({ kind: "look", requester_session: "alice", target_session: "bob" });
    expect(look.snapshot_lines).toEqual(["bob line 1", "bob line 2", "bob line 3"]);
    expect(transport.looks).toEqual([{ target: "bob", lines: 3 }]);

    // Async is the MCP default: the answer comes once the relay accepted the message.
    const sent = await mcp.ok("send", { message: "can you review my branch?", targets: ["bob"] });
    expect(sent).toMatchObject({ kind: "chat", status: "accepted", delivery_mode: "async", sender_session: "alice" });
    const delivery = await until("the delivery to bob", () => transport.deliveries[0]);
    expect(delivery).toMatchObject({
      senderSession: "alice",
      targetSession: "bob",
      body: "can you review my branch?",
    });

    const sync = await mcp.ok("send", { message: "done?", targets: ["bob"], delivery_mode: "sync", request_id: "r-1" });
    expect(sync).toMatchObject({ status: "success", request_id: "r-1", results: [{ outcome: "delivered" }] });
    expect(transport.deliveries.map((d) => d.senderSession)).toEqual(["alice", "alice"]);
  });

  it("§5 help refuses an unknown query and list any command but sessions", async () => {
    const mcp = await mcpAs(freshSocketPath());
    for (const [tool, args] of [
      ["help", { query: "raww" }],
      ["help", { query: "everything" }],
      ["list", { command: "bundles" }],
      ["list", {}],
      ["list", { command: "sessions", args: { bundle_name: BUNDLE, all: true } }],
    ] as const) {
      const failure = await mcp.fail(tool, args);
      expect(failure.rpcCode, `${tool} ${JSON.stringify(args)}`).toBe(ErrorCode.InvalidParams);
      expect(failure.data.code).toBe("validation_invalid_params");
    }
  });
});

describe("identity", () => {
  it("25. sender-like fields are refused with validation_invalid_params (-32602) and nothing is sent", async () => {
    const transport = new RecordingTransport();
    const { socketPath } = await startRelay(freshSocketPath(), bundleOf(transport));
    const mcp = await mcpAs(socketPath);
    const forged: [string, Record<string, unknown>][] = [
      ["send", { message: "hi", targets: ["bob"], sender: "bob" }],
      ["send", { message: "hi", targets: ["bob"], sender_session: "bob" }],
      ["send", { message: "hi", targets: ["bob"], from: "bob" }],
      ["send", { message: "hi", targets: ["bob"], senderSession: "bob" }],
      ["send", { message: "hi", targets: ["bob"], session_id: "bob" }],
      // Even naming the server's own identity: the sender is never an input.
      ["send", { message: "hi", targets: ["bob"], sender_session: "alice" }],
      ["look", { target_session: "bob", requester_session: "bob" }],
      ["list", { command: "sessions", sender_session: "bob" }],
    ];
    for (const [tool, args] of forged) {
      const failure = await mcp.fail(tool, args);
      expect(failure.rpcCode, JSON.stringify(args)).toBe(ErrorCode.InvalidParams);
      expect(failure.data).toMatchObject({ code: "validation_invalid_params", details: { bound_session: "alice" } });
    }
    // Any other unknown field too (strict schemas).
    expect((await mcp.fail("send", { message: "hi", targets: ["bob"], priority: "high" })).data.code).toBe(
      "validation_invalid_params",
    );
    // The relay was there all along; nothing reached it.
    await mcp.ok("send", { message: "real", targets: ["bob"], delivery_mode: "sync" });
    expect(transport.deliveries.map((d) => [d.senderSession, d.body])).toEqual([["alice", "real"]]);
  });

  it("25. an identity the relay does not know is refused by the relay, its code passed through", async () => {
    const { socketPath } = await startRelay(freshSocketPath(), bundleOf(new RecordingTransport()));
    const mcp = await mcpAs(socketPath, "mallory");
    const failure = await mcp.fail("list", { command: "sessions" });
    expect(failure.rpcCode).toBe(ErrorCode.InvalidParams);
    expect(failure.data.code).toBe("validation_unknown_sender");
  });
});

/** A relay error as `data` would carry it. */
async function relayFailure(call: Promise<unknown>): Promise<{ code: string; message: string; details: unknown }> {
  try {
    await call;
  } catch (err) {
    if (isRelayError(err)) return { code: err.code, message: err.message, details: err.details ?? {} };
    throw err;
  }
  throw new Error("expected the relay to refuse");
}

describe("the relay's answers", () => {
  it("25. a relay denial (authorization_forbidden) passes through unchanged", async () => {
    const narrow: Controls = { ...OPEN, look: "self" };
    const { socketPath } = await startRelay(freshSocketPath(), bundleOf(new RecordingTransport(), narrow));
    // What the relay says to alice directly…
    const direct = await RelayClient.connect({
      socketPath,
      bundleName: BUNDLE,
      sessionId: "alice",
      clientClass: "agent",
    });
    const expected = await relayFailure(direct.look("bob", 5));
    await direct.close();
    expect(expected).toMatchObject({
      code: "authorization_forbidden",
      details: { capability: "look.inspect", requester_session: "alice", target_session: "bob" },
    });
    // …is what the agent gets through MCP, word for word.
    const mcp = await mcpAs(socketPath);
    const failure = await mcp.fail("look", { target_session: "bob", lines: 5 });
    expect(failure.rpcCode).toBe(ErrorCode.InvalidParams);
    expect(failure.data).toEqual(expected);
    // Looking at itself stays allowed under look=self.
    expect(await mcp.ok("look", { target_session: "alice", lines: 1 })).toMatchObject({
      snapshot_lines: ["alice line 1"],
    });
  });

  it("§5 the local input checks give the relay's own codes, without the relay", async () => {
    // The relay's answers, asked directly (as bob, so the MCP server's alice stays free)…
    const { socketPath } = await startRelay(freshSocketPath(), bundleOf(new RecordingTransport()));
    const bob = await RelayClient.connect({ socketPath, bundleName: BUNDLE, sessionId: "bob", clientClass: "agent" });
    onCleanup(() => bob.close());
    // …and the MCP server's, with no relay at all (so the checks can only be local).
    const mcp = await mcpAs(freshSocketPath());
    const sends: [Record<string, unknown>, RelaySendInput][] = [
      [
        { message: "", targets: ["alice"] },
        { message: "", targets: ["alice"] },
      ],
      [
        { message: " \n ", targets: ["alice"] },
        { message: " \n ", targets: ["alice"] },
      ],
      [{ message: "hi" }, { message: "hi" }],
      [
        { message: "hi", targets: ["alice"], broadcast: true },
        { message: "hi", targets: ["alice"], broadcast: true },
      ],
      [
        { message: "hi", targets: ["alice"], quiescence_timeout_ms: 0 },
        { message: "hi", targets: ["alice"], quiescenceTimeoutMs: 0 },
      ],
      [
        { message: "hi", targets: ["alice"], acp_turn_timeout_ms: 0 },
        { message: "hi", targets: ["alice"], acpTurnTimeoutMs: 0 },
      ],
      [
        { message: "hi", targets: ["alice"], quiescence_timeout_ms: 5, acp_turn_timeout_ms: 5 },
        { message: "hi", targets: ["alice"], quiescenceTimeoutMs: 5, acpTurnTimeoutMs: 5 },
      ],
    ];
    const codes: string[] = [];
    for (const [args, input] of sends) {
      const relay = await relayFailure(bob.send(input));
      const local = await mcp.fail("send", args);
      expect(local.data.code, JSON.stringify(args)).toBe(relay.code);
      expect(local.rpcCode).toBe(ErrorCode.InvalidParams);
      codes.push(local.data.code);
    }
    expect(codes).toEqual([
      "validation_invalid_arguments",
      "validation_invalid_arguments",
      "validation_empty_targets",
      "validation_conflicting_targets",
      "validation_invalid_quiescence_timeout",
      "validation_invalid_acp_turn_timeout",
      "validation_conflicting_timeout_fields",
    ]);
    for (const [target, lines] of [
      ["", undefined],
      ["alice", 0],
      ["alice", 1001],
      ["alice", 2.5],
    ] as const) {
      const relay = await relayFailure(bob.look(target, lines));
      const local = await mcp.fail("look", { target_session: target, ...(lines === undefined ? {} : { lines }) });
      expect(local.data.code, `look ${target} ${lines}`).toBe(relay.code);
    }
    expect((await mcp.fail("look", { target_session: "" })).data.code).toBe("validation_unknown_target");
  });
});

describe("the relay connection", () => {
  it("25. the server starts with the relay down, tools answer relay_unavailable, and work once it is up", async () => {
    const socketPath = freshSocketPath();
    const mcp = await mcpAs(socketPath);
    // help needs no relay.
    expect(await mcp.ok("help")).toMatchObject({ session_id: "alice" });
    for (const [tool, args] of [
      ["list", { command: "sessions" }],
      ["look", { target_session: "bob" }],
      ["send", { message: "anyone?", targets: ["bob"] }],
    ] as const) {
      const failure = await mcp.fail(tool, args);
      expect(failure.rpcCode, tool).toBe(ErrorCode.InternalError);
      expect(failure.data).toMatchObject({ code: "relay_unavailable", details: { socket_path: socketPath } });
    }

    const transport = new RecordingTransport();
    const first = await startRelay(socketPath, bundleOf(transport));
    expect(await mcp.ok("list", { command: "sessions" })).toMatchObject({ kind: "list" });
    await mcp.ok("send", { message: "now?", targets: ["bob"], delivery_mode: "sync" });
    expect(transport.deliveries.map((d) => d.body)).toEqual(["now?"]);

    // The relay goes away and comes back: the stream broke, the next call after the return reconnects.
    await first.stop();
    expect((await mcp.fail("list", { command: "sessions" })).data.code).toBe("relay_unavailable");
    await startRelay(socketPath, bundleOf(transport));
    await mcp.ok("send", { message: "back", targets: ["bob"], delivery_mode: "sync" });
    expect(transport.deliveries.map((d) => d.body)).toEqual(["now?", "back"]);
    expect(mcp.stderr()).toContain('"event":"mcp.relay.connected"');
  });

  it("25. nothing is replayed after a mid-request disconnect", async () => {
    const transport = new BlockingTransport();
    const started = await startRelay(freshSocketPath(), bundleOf(transport));
    const mcp = await mcpAs(started.socketPath);
    await mcp.ok("list", { command: "sessions" });

    const held = mcp.fail("send", { message: "once only", targets: ["bob"], delivery_mode: "sync" });
    await until("the held delivery", () => transport.started.length === 1);
    expect(started.sockets.size).toBe(1);
    // The relay's end of the MCP server's stream dies while the send is in flight.
    for (const socket of started.sockets) socket.destroy();
    const failure = await held;
    expect(failure.rpcCode).toBe(ErrorCode.InternalError);
    expect(failure.data.code).toBe("relay_unavailable");

    // The held delivery finishes; the next calls reconnect and do not bring the send back.
    transport.release();
    await until("the delivery to finish", () => transport.finished.length === 1);
    await mcp.ok("look", { target_session: "bob" });
    await mcp.ok("list", { command: "sessions" });
    expect(transport.started.map((d) => d.body)).toEqual(["once only"]);
    expect(started.relay.queueDepth).toBe(0);
    expect(await started.mailbox.pending()).toEqual([]);
  });

  it("§5 no answer in time is relay_timeout; calls waiting for one connect share it", async () => {
    // A relay that says hello and then never answers.
    const socketPath = freshSocketPath();
    let connections = 0;
    const requests: unknown[] = [];
    const silent = createServer((socket: Socket) => {
      connections += 1;
      const decoder = new NdjsonDecoder();
      socket.on("error", () => {});
      socket.on("data", (chunk: Buffer) => {
        for (const decoded of decoder.push(chunk)) {
          if (!decoded.ok) continue;
          const frame = JSON.parse(decoded.frame) as Record<string, unknown>;
          if (frame.frame === "hello") {
            socket.write(`${JSON.stringify({ ...frame, frame: "hello_ack" })}\n`);
          } else requests.push(frame);
        }
      });
    });
    silent.listen(socketPath);
    await once(silent, "listening");
    onCleanup(() => new Promise<void>((resolve) => silent.close(() => resolve())));

    const server = new AgentMcpServer({
      socketPath,
      bundleName: BUNDLE,
      sessionId: "alice",
      version: "test",
      responseTimeoutMs: 200,
    });
    onCleanup(() => server.close());
    const calls = [1, 2, 3].map(() => server.call("list", { command: "sessions" }).catch((err: unknown) => err));
    for (const err of await Promise.all(calls)) {
      expect(err).toBeInstanceOf(McpError);
      expect(err).toMatchObject({ code: ErrorCode.InternalError, data: { code: "relay_timeout" } });
    }
    expect(connections).toBe(1);
    expect(requests).toHaveLength(3);
  });

  it("25. a relay killed -9 mid-request: the call fails with relay_unavailable and the next relay gets nothing again", async () => {
    const dir = tempDir("agentmux-mcp-kill-");
    const socketPath = join(dir, "relay.sock");
    const first = await startRelayProcess(socketPath, join(dir, "first.jsonl"));
    const mcp = await mcpAs(socketPath);
    await mcp.ok("list", { command: "sessions" });

    const held = mcp.fail("send", { message: "once only", targets: ["bob"], delivery_mode: "sync" });
    const record = join(dir, "first.jsonl");
    await until("the delivery to start", () => existsSync(record) && readFileSync(record, "utf8").endsWith("\n"));
    first.kill("SIGKILL");
    const failure = await held;
    expect(failure.rpcCode).toBe(ErrorCode.InternalError);
    expect(failure.data.code).toBe("relay_unavailable");

    await startRelayProcess(socketPath, join(dir, "second.jsonl"));
    expect(await mcp.ok("list", { command: "sessions" })).toMatchObject({ kind: "list" });
    await mcp.ok("look", { target_session: "bob", lines: 1 });
    expect(readFileSync(join(dir, "first.jsonl"), "utf8")).toBe(
      `${JSON.stringify({ sender: "alice", body: "once only" })}\n`,
    );
    expect(existsSync(join(dir, "second.jsonl"))).toBe(false);
  });
});

describe("the process", () => {
  it("25. a bad command line exits 2 with a message on stderr and nothing on stdout", async () => {
    const socket = freshSocketPath();
    const cases: [string[], RegExp][] = [
      [[], /--socket is required/],
      [["--socket", socket, "--bundle", BUNDLE], /--session is required/],
      [["--socket", socket, "--session", "alice"], /--bundle is required/],
      [["--socket", socket, "--bundle", BUNDLE, "--session", "9lives"], /invalid session id "9lives"/],
      [["--socket", socket, "--bundle", BUNDLE, "--session", `a${"b".repeat(31)}`], /invalid session id/],
      [["--socket", socket, "--bundle", BUNDLE, "--session", "al.ice"], /invalid session id/],
      [["--socket", socket, "--bundle", "..", "--session", "alice"], /invalid bundle name/],
      [["--socket", "", "--bundle", BUNDLE, "--session", "alice"], /--socket must not be empty/],
      [["--socket", `/${"s".repeat(120)}`, "--bundle", BUNDLE, "--session", "alice"], /too long/],
      [["--socket", socket, "--bundle", BUNDLE, "--session", "alice", "--sender", "bob"], /Unknown option '--sender'/],
      [["--socket", socket, "--bundle", BUNDLE, "--session", "alice", "extra"], /Unexpected argument 'extra'/],
    ];
    for (const [argv, message] of cases) {
      const { status, stderr, stdout } = await runMcpMain(argv);
      expect(status, argv.join(" ")).toBe(2);
      expect(stderr).toMatch(message);
      expect(stderr).toContain("usage:");
      expect(stdout).toBe("");
    }
  });

  it("the argv srv writes is the argv the server reads", () => {
    for (const args of [
      { socketPath: "/tmp/a b/relay.sock", bundleName: BUNDLE, sessionId: "alice" },
      { socketPath: "/r.sock", bundleName: "my.bundle-2", sessionId: `a${"b".repeat(30)}` },
    ]) {
      expect(parseMcpArgv(formatMcpArgv(args))).toEqual({ help: false, args });
    }
    expect(parseMcpArgv(["--help"])).toEqual({ help: true });
  });

  it("the server exits when its agent closes stdin, and logs only to stderr", async () => {
    const mcp = await mcpAs(freshSocketPath());
    expect(await mcp.ok("help")).toMatchObject({ kind: "help" });
    expect(isRunning(mcp.pid)).toBe(true);
    await mcp.close();
    await until("the MCP server to exit", () => !isRunning(mcp.pid));
    // It left because stdin ended (the SDK client would SIGTERM it only after 2 s).
    await until("the stop line", () => mcp.stderr().includes('"event":"mcp.stop","why":"stdin closed"'));
    expect(mcp.stderr()).toContain('"event":"mcp.start"');
  });
});
