import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatEvent, normalize } from "@agentmux/agent-controller/transcript";
import type { AgentBlockMeta } from "@agentmux/common-ipc";
import {
  BUILTIN_CONTROLS,
  bundlePaths,
  type Delivery,
  type DeliveryOutcome,
  type HostedRelay,
  hostRelay,
  type LookSnapshot,
  type Mailbox,
  type RelayDirectory,
  type RelayDirectorySnapshot,
  RelayError,
  RelayServer,
  sanitizeForTerminal,
  secureBundleDir,
  type Transport,
  validateSessionId,
} from "@agentmux/relay";
import type { Logger } from "pino";
import type { Agents } from "../agents/agents.js";
import type { Dispatcher } from "../dispatcher.js";
import { formatMcpArgv } from "../mcp/args.js";

export const SRV_RELAY_DEFAULTS = Object.freeze({
  /** The person at the terminal or the dashboard: a UI session of every srv bundle. */
  humanSession: "human",
  /** Largest message an agent is handed (UTF-8 bytes, envelope included); longer ones are cut with a marker. */
  maxTurnBytes: 64 * 1024,
  /** Transcript bytes read back for `look`. */
  lookBytes: 256 * 1024,
  /** How long a sync send waits for the agent to take the message (its current turn may run first). */
  syncTakeTimeoutMs: 120_000,
  maxConnections: 1024,
  shutdownGraceMs: 200,
});

/** The MCP tools srv's agents may call without asking the person first. */
const MCP_TOOLS = ["list", "look", "send", "help"].map((t) => `mcp__agentmux__${t}`);

/** Whether an agent name can be a relay session id (relay.md §1); agents with other names cannot be addressed. */
function isSessionId(name: string): boolean {
  try {
    validateSessionId(name);
    return true;
  } catch {
    return false;
  }
}

/** Mailbox records srv can mark before it hands a message over, so a crash in between is visible at restart. */
export interface DeliveryJournal {
  markDelivering(messageId: string): Promise<void>;
  get(messageId: string): Promise<{ state: string } | undefined>;
}

export interface SrvRelayOptions {
  dispatcher: Dispatcher;
  agents: Agents;
  logger: Logger;
  /** The relay's state root (`<relayDir>/bundles/<bundle>/relay.sock`). */
  relayDir: string;
  /** The bundle: srv's instance name. */
  bundleName: string;
  mailbox: Mailbox & Partial<DeliveryJournal>;
  uid: number;
  /** Crash tests: deliveries never finish, parked before the hand-over or after it. */
  hold?: { at: "before" | "after"; onHold: (messageId: string) => void };
}

/**
 * The relay of one srv instance: every agent block whose `agent:name` is a
 * valid session id is a member (a name used in two workspaces is ambiguous and
 * left out), and `human` is the UI session a person sends from. A message to
 * an agent becomes a user turn of its session: the envelope, cleaned of
 * control characters and capped.
 */
export class SrvRelay {
  private constructor(
    readonly socket: string,
    readonly bundleName: string,
    private readonly server: RelayServer,
    private readonly hosted: HostedRelay,
  ) {}

  static async start(options: SrvRelayOptions): Promise<SrvRelay> {
    const paths = bundlePaths(options.relayDir, options.bundleName);
    secureBundleDir(paths.dir, { uid: options.uid });
    const directory = agentDirectory(options);
    const server = new RelayServer({
      bundleName: options.bundleName,
      directory,
      mailbox: options.mailbox,
      // Every agent's MCP server holds a stream, besides people's commands.
      maxConnections: SRV_RELAY_DEFAULTS.maxConnections,
      // srv's own stop deadline is short; what is still queued stays pending for the next start.
      shutdownGraceMs: SRV_RELAY_DEFAULTS.shutdownGraceMs,
      log: (event, details) => options.logger.debug({ relay: event, ...details }, "relay"),
    });
    const hosted = await hostRelay({
      paths,
      uid: options.uid,
      bundleName: options.bundleName,
      onConnection: (socket) => server.handleConnection(socket),
    });
    if (hosted.outcome !== "hosted") {
      await server.close();
      throw new RelayError(
        "runtime_lock_held",
        `the relay of ${options.bundleName} is held elsewhere: ${hosted.reason}`,
      );
    }
    const relay = new SrvRelay(paths.socket, options.bundleName, server, hosted);
    try {
      const redelivered = await server.redeliverPending();
      if (redelivered > 0)
        options.logger.info({ messages: redelivered }, "relay: messages of the previous run queued again");
    } catch (err) {
      await relay.close();
      throw err;
    }
    return relay;
  }

  /**
   * The arguments that give a claude agent the MCP server bound to its name, or none when the
   * name cannot be a session. Its own tools are allowed without a permission prompt; user
   * messages are echoed into the transcript, so a redelivery after a crash can tell whether the
   * agent already took a message.
   */
  claudeArgs(meta: AgentBlockMeta): string[] {
    const name = meta["agent:name"];
    if (name === undefined || !isSessionId(name)) return [];
    const server = {
      type: "stdio",
      command: process.execPath,
      args: [MCP_MAIN, ...formatMcpArgv({ socketPath: this.socket, bundleName: this.bundleName, sessionId: name })],
    };
    return [
      "--replay-user-messages",
      "--allowedTools",
      MCP_TOOLS.join(","),
      "--mcp-config",
      JSON.stringify({ mcpServers: { agentmux: server } }),
    ];
  }

  /** Queued deliveries get a short grace, then stay pending in the mailbox for the next start. */
  async close(): Promise<void> {
    await this.server.close();
    await this.hosted.close();
  }
}

/** srv's MCP entry point, beside this module in the build. */
const MCP_MAIN = join(dirname(fileURLToPath(import.meta.url)), "mcp-main.js");

/** The agents of srv's state as the relay's directory, read anew for every request. */
function agentDirectory(options: SrvRelayOptions): RelayDirectory {
  const transport = new AgentTransport(options, (session) => blockOf(options.dispatcher, session));
  return {
    load: async (): Promise<RelayDirectorySnapshot> => ({
      members: [...agentNames(options.dispatcher)].map(([id]) => ({ id, transport, controls: BUILTIN_CONTROLS })),
      uis: [{ id: SRV_RELAY_DEFAULTS.humanSession, name: "you", controls: BUILTIN_CONTROLS }],
    }),
  };
}

/** Agent name → block id, for names that are valid session ids and used once in srv. */
function agentNames(dispatcher: Dispatcher): Map<string, string> {
  const byName = new Map<string, string | null>();
  for (const [blockId, tag] of dispatcher.state.agentTags) {
    if (tag.view !== "agent" || typeof tag.name !== "string" || !isSessionId(tag.name)) continue;
    byName.set(tag.name, byName.has(tag.name) ? null : blockId);
  }
  return new Map([...byName].filter((e): e is [string, string] => e[1] !== null));
}

function blockOf(dispatcher: Dispatcher, session: string): string | undefined {
  return agentNames(dispatcher).get(session);
}

/** Delivery into an agent block's session: the message is the next user turn. */
class AgentTransport implements Transport {
  readonly kind = "session";

  constructor(
    private readonly options: SrvRelayOptions,
    private readonly blockOf: (session: string) => string | undefined,
  ) {}

  async deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    const { agents, mailbox } = this.options;
    const blockId = this.blockOf(delivery.targetSession);
    if (blockId === undefined)
      return {
        outcome: "failed",
        reasonCode: "runtime_target_unavailable",
        reason: `no agent ${delivery.targetSession}`,
      };
    if (delivery.signal.aborted) return { outcome: "dropped_on_shutdown", reasonCode: "dropped_on_shutdown" };
    // A message a crash caught mid-delivery: the agent echoes every user turn into its
    // transcript, so one it already took is not given twice.
    if ((await mailbox.get?.(delivery.messageId))?.state === "delivering") {
      if (await agents.transcriptIncludes(blockId, `Message-Id: ${delivery.messageId}`))
        return { outcome: "delivered", reason: "the agent took it before srv restarted" };
    }
    const { hold } = this.options;
    if (hold?.at === "before") return parked(hold, delivery);
    await mailbox.markDelivering?.(delivery.messageId);
    let echoes: boolean;
    let from: number;
    try {
      ({ echoes, from } = await agents.deliver(
        blockId,
        sanitizeForTerminal(delivery.envelope, SRV_RELAY_DEFAULTS.maxTurnBytes),
      ));
    } catch (err) {
      return { outcome: "failed", reasonCode: "runtime_transport_write_failed", reason: (err as Error).message };
    }
    // Delivered means taken: the message may still wait in the session's queue (the agent
    // starting, or mid-turn), where a stop or a crash would lose it. An agent that echoes its
    // turns says when it took it; until then the mailbox keeps the message `delivering`.
    if (echoes) {
      const timeoutMs =
        delivery.turnTimeoutMs ?? (delivery.mode === "sync" ? SRV_RELAY_DEFAULTS.syncTakeTimeoutMs : undefined);
      const took = await agents.transcriptWaitFor(blockId, `Message-Id: ${delivery.messageId}`, {
        signal: delivery.signal,
        from,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
      if (!took && delivery.signal.aborted)
        return { outcome: "dropped_on_shutdown", reasonCode: "dropped_on_shutdown" };
      if (!took)
        return {
          outcome: "timeout",
          reasonCode: "agent_did_not_take",
          reason: `the agent did not take the message within ${timeoutMs} ms; it stays queued for it`,
        };
    }
    if (hold?.at === "after") return parked(hold, delivery);
    const bytes = Buffer.byteLength(delivery.envelope);
    return bytes > SRV_RELAY_DEFAULTS.maxTurnBytes
      ? { outcome: "delivered", reason: `cut to ${SRV_RELAY_DEFAULTS.maxTurnBytes} of its ${bytes} bytes` }
      : { outcome: "delivered" };
  }

  /** The agent's recent transcript, readable (one line per text line, tool call and result). */
  async look(targetSession: string, lines: number): Promise<LookSnapshot> {
    const blockId = this.blockOf(targetSession);
    if (blockId === undefined) throw new RelayError("runtime_target_unavailable", `no agent ${targetSession}`);
    const tail = await this.options.agents.transcriptTail(blockId, SRV_RELAY_DEFAULTS.lookBytes);
    // A tail that does not start at the beginning may start inside a line: that line is skipped.
    const rows = tail.text.split("\n").slice(tail.fromStart ? 0 : 1);
    const readable = rows.flatMap((line) => normalize("auto", line)).flatMap((event) => formatEvent(event));
    return { format: "lines", lines: readable.slice(-lines) };
  }
}

/** A delivery a crash test parks: it ends only with the relay (shutdown), never delivered. */
function parked(hold: NonNullable<SrvRelayOptions["hold"]>, delivery: Delivery): Promise<DeliveryOutcome> {
  hold.onHold(delivery.messageId);
  return new Promise((resolve) => {
    const drop = () => resolve({ outcome: "dropped_on_shutdown", reasonCode: "dropped_on_shutdown" });
    if (delivery.signal.aborted) drop();
    else delivery.signal.addEventListener("abort", drop, { once: true });
  });
}
