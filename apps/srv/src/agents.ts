import type { Provider, Session, SessionClaims, SessionStatus, StopDeadlines, Usage } from "@agentmux/agent-controller";
import {
  AgentUsage,
  type BusEvent,
  type Command,
  type Event,
  errorEvent,
  type JsonValue,
  type Meta,
} from "@agentmux/common-ipc";
import type { DraftEvent } from "@agentmux/reducer";
import type { Store } from "@agentmux/store";
import type { Logger } from "pino";
import { z } from "zod";
import { Bus, type Core } from "./core.js";

/** The block meta srv keeps for a running agent (see `#persistMeta`). */
const SESSION_META_KEYS = [
  "session:active_pid",
  "session:pid_start",
  "session:id",
  "session:usage",
  "session:was_interrupted",
] as const;

/** The transcript file of an agent block, in the block's file-store zone. */
export const TRANSCRIPT = "output";
/** Largest `block_output` push; longer writes go out in several. */
const PUSH_BYTES = 256 * 1024;
/**
 * srv checkpoints its WALs itself (off the commit path). Transcript bytes are no events, so the
 * file store's WAL is checkpointed here: after this many transcript bytes (the WAL grows by up
 * to about three times as much, as appends rewrite the file's last part), and when output goes
 * quiet.
 */
const CHECKPOINT_BYTES = 4 * 1024 * 1024;
const QUIET_CHECKPOINT_MS = 1000;

/** What makes a block an agent, read from its meta when the agent is first used. */
const AgentMeta = z.looseObject({
  view: z.literal("agent", { error: 'not an agent block (its meta needs view: "agent")' }),
  "agent:provider": z.enum(["claude", "codex", "gemini", "acp"]),
  "agent:cwd": z.string().startsWith("/", { error: "agent:cwd must be an absolute path" }),
  "agent:name": z.string().min(1).max(200).optional(),
  /** The executable (default: the provider's command on PATH; required for acp). */
  "agent:command": z.string().min(1).optional(),
  "agent:args": z.array(z.string()).optional(),
  "agent:permissions": z.enum(["ask", "skip"]).optional(),
  "session:id": z.string().min(1).nullable().optional(),
  "session:usage": AgentUsage.nullable().optional(),
});
type AgentMeta = z.infer<typeof AgentMeta>;

/** A `block_output` push (version 0: transcript bytes are not versioned events). */
export type BlockOutput = Extract<BusEvent, { event: "block_output" }>;

export interface AgentsOptions {
  core: Core;
  store: Store;
  logger: Logger;
  /** The environment agents start with (srv's, without its secrets). */
  env: Readonly<Record<string, string | undefined>>;
  deadlines?: Partial<StopDeadlines>;
}

interface Running {
  session: Session;
  /** Transcript bytes waiting for the next write. */
  pending: Buffer[];
  writing: Promise<void> | null;
  lastStatus: string;
  lastMeta: Record<string, unknown>;
}

/**
 * srv's agent runtime: one agent-controller session per agent block. It persists what the
 * sessions emit (transcripts to the file store, status to block meta and `agent_status`
 * events) and pushes transcript bytes to subscribers as `block_output`.
 */
export class Agents {
  readonly output = new Bus<BlockOutput>();
  readonly #sessions = new Map<string, Running>();
  readonly #opening = new Map<string, Promise<Running>>();
  #claims: SessionClaims | undefined;
  /**
   * The agent controller (with the ACP SDK and rxjs under it) loads on first use, so a start with
   * no agent to run or reap does not pay for it.
   */
  #controller: Promise<Controller> | undefined;
  readonly #background = new Set<Promise<unknown>>();
  readonly #options: AgentsOptions;
  #closing = false;
  /** Transcript bytes written since the file store's WAL was last checkpointed. */
  #unchecked = 0;
  #quiet: NodeJS.Timeout | undefined;

  constructor(options: AgentsOptions) {
    this.#options = options;
    options.core.events$.subscribe((ev) => this.#onEvent(ev));
  }

  /**
   * After a crash: agents that were running have `session:active_pid` in their meta. A survivor
   * is stopped (only if its start time matches, so a reused pid is never hit), the pid cleared
   * and the block flagged `session:was_interrupted`; the next send resumes the conversation.
   */
  async recover(): Promise<number> {
    const { store, core, logger } = this.#options;
    let found = 0;
    // Only blocks that name an active pid are read: boot time must not grow with the block count.
    for (const block of await store.objects.withMetaKey("block", "session:active_pid")) {
      const { reapOrphan } = await this.#load();
      const pid = block.meta["session:active_pid"];
      if (block.meta.view !== "agent" || typeof pid !== "number" || pid <= 0) continue;
      found++;
      const startTime = block.meta["session:pid_start"];
      const outcome = await reapOrphan({ pid, startTime: typeof startTime === "string" ? startTime : null });
      logger.warn({ block: block.oid, pid, outcome }, "agent of the previous run found");
      await core.submit(
        {
          cmd: "update_block_meta",
          block_id: block.oid,
          meta_patch: { "session:active_pid": null, "session:pid_start": null, "session:was_interrupted": true },
        },
        { registeredPid: null },
      );
    }
    return found;
  }

  #load(): Promise<Controller> {
    this.#controller ??= import("@agentmux/agent-controller");
    return this.#controller;
  }

  /** Runs an agent command; returns the private replies for the requester. */
  async execute(cmd: Command): Promise<{ caused: BusEvent[]; replies: Event[] }> {
    const reqId = cmd.req_id;
    const refuse = (code: Parameters<typeof errorEvent>[0], message: string) => ({
      caused: [],
      replies: [errorEvent(code, message, { reqId })],
    });
    if (!("block_id" in cmd)) return refuse("invalid_command", `${cmd.cmd} is not an agent command`);
    const blockId = cmd.block_id;
    if (!this.#options.core.state.blocks.has(blockId)) return refuse("not_found", `no block ${blockId}`);
    try {
      switch (cmd.cmd) {
        case "get_block_output":
          return { caused: [], replies: [await this.#read(blockId, cmd.offset, cmd.limit, reqId)] };
        case "agent_send": {
          const running = await this.#open(blockId);
          running.session.send(cmd.message);
          return { caused: await this.#publish(blockId, running, reqId), replies: [] };
        }
        case "agent_interrupt":
        case "agent_stop":
        case "agent_respond": {
          const running = this.#sessions.get(blockId);
          if (!running) return refuse("invalid_command", `agent ${blockId} is not running`);
          if (cmd.cmd === "agent_interrupt" && !running.session.interrupt())
            return refuse("invalid_command", `agent ${blockId} has no turn to interrupt`);
          if (cmd.cmd === "agent_stop") await running.session.stop({ force: cmd.force });
          if (cmd.cmd === "agent_respond") {
            const decision =
              cmd.decision === "allow"
                ? { behavior: "allow" as const }
                : { behavior: "deny" as const, ...(cmd.message ? { message: cmd.message } : {}) };
            if (!running.session.respond(cmd.request_id, decision))
              return refuse("not_found", `agent ${blockId} is not waiting on request ${cmd.request_id}`);
          }
          return { caused: await this.#publish(blockId, running, reqId), replies: [] };
        }
        default:
          return refuse("invalid_command", `${cmd.cmd} is not an agent command`);
      }
    } catch (err) {
      if (err instanceof AgentMetaError) return refuse("invalid_command", err.message);
      if (err instanceof (await this.#load()).AgentError) return refuse("agent_busy", err.message);
      throw err;
    }
  }

  /** Stops every agent (the stop ladder, within its deadlines) and writes what they left. */
  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#quiet);
    // Quicker than an agent_stop: srv has a shutdown deadline to keep.
    const deadlines = { interruptMs: 300, eofMs: 500, termMs: 500 };
    await Promise.all([...this.#sessions.values()].map((r) => r.session.close({ deadlines })));
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  /** The block's running agent, opened on first use (concurrent first uses share one opening). */
  #open(blockId: string): Promise<Running> {
    const existing = this.#sessions.get(blockId);
    if (existing) return Promise.resolve(existing);
    let opening = this.#opening.get(blockId);
    if (!opening) {
      opening = this.#create(blockId).finally(() => this.#opening.delete(blockId));
      this.#opening.set(blockId, opening);
    }
    return opening;
  }

  async #create(blockId: string): Promise<Running> {
    const { store, logger } = this.#options;
    const block = await store.objects.mustGet("block", blockId);
    const parsed = AgentMeta.safeParse(block.meta);
    if (!parsed.success) throw new AgentMetaError(`block ${blockId}: ${parsed.error.issues[0]?.message ?? "bad meta"}`);
    const meta = parsed.data;
    await this.#checkNameUnique(blockId, meta);
    const info =
      (await store.files.stat(blockId, TRANSCRIPT)) ?? (await store.files.makeFile(blockId, TRANSCRIPT, {}, {}));
    const controller = await this.#load();
    this.#claims ??= new controller.ConversationClaims();
    const session = controller.createSession({
      provider: providerFor(controller, meta),
      cwd: meta["agent:cwd"],
      ...(meta["agent:command"] ? { command: meta["agent:command"] } : {}),
      env: this.#options.env,
      sessionId: meta["session:id"] ?? null,
      transcriptOffset: info.size,
      ...(meta["session:usage"] ? { usage: meta["session:usage"] as Usage } : {}),
      claims: this.#claims,
      ...(this.#options.deadlines ? { deadlines: this.#options.deadlines } : {}),
      onWarning: (message) => logger.warn({ block: blockId }, message),
    });
    // What the meta says now, so only real changes are written.
    const lastMeta = Object.fromEntries(SESSION_META_KEYS.map((k) => [k, block.meta[k] ?? null]));
    const running: Running = { session, pending: [], writing: null, lastStatus: "", lastMeta };
    this.#sessions.set(blockId, running);
    session.output$.subscribe((line) => {
      running.pending.push(line.data);
      if (running.writing === null) running.writing = this.#track(this.#write(blockId, running));
    });
    session.status$.subscribe((status) => {
      void this.#track(this.#publish(blockId, running));
      void this.#track(this.#persistMeta(blockId, running, status));
    });
    return running;
  }

  async #checkNameUnique(blockId: string, meta: AgentMeta): Promise<void> {
    const name = meta["agent:name"];
    if (name === undefined) return;
    const { core, store } = this.#options;
    const tab = core.state.tabs.get(core.state.blocks.get(blockId) ?? "");
    const workspace = tab ? core.state.workspaces.get(tab.workspaceId) : undefined;
    for (const tabId of workspace?.tabIds ?? []) {
      for (const other of core.state.tabs.get(tabId)?.blockIds ?? []) {
        if (other === blockId) continue;
        // The name belongs to the agent that was used first (has run, or runs now).
        const o = await store.objects.get("block", other);
        const used = this.#sessions.has(other) || typeof o?.meta["session:id"] === "string";
        if (used && o?.meta.view === "agent" && o.meta["agent:name"] === name)
          throw new AgentMetaError(`agent name "${name}" is already used by block ${other} in this workspace`);
      }
    }
  }

  /** Appends waiting transcript bytes (one write per batch), then pushes them to subscribers. */
  async #write(blockId: string, running: Running): Promise<void> {
    const files = this.#options.store.files;
    try {
      while (running.pending.length > 0) {
        const batch = running.pending.length === 1 ? (running.pending[0] as Buffer) : Buffer.concat(running.pending);
        running.pending = [];
        const { offset } = await files.append(blockId, TRANSCRIPT, batch);
        this.#unchecked += batch.length;
        for (let at = 0; at < batch.length; ) {
          const end = utf8Boundary(batch, Math.min(batch.length, at + PUSH_BYTES));
          this.output.next(outputEvent(blockId, offset + at, batch.toString("utf8", at, end)));
          at = end;
        }
        if (this.#unchecked >= CHECKPOINT_BYTES) await this.#checkpoint();
      }
    } catch (err) {
      this.#options.logger.error({ err, block: blockId }, "could not write the agent transcript");
    } finally {
      running.writing = null;
    }
    clearTimeout(this.#quiet);
    if (this.#closing) return;
    this.#quiet = setTimeout(() => void this.#track(this.#checkpoint()), QUIET_CHECKPOINT_MS);
    this.#quiet.unref();
  }

  /** Keeps the file store's WAL bounded however long an agent keeps printing. */
  async #checkpoint(): Promise<void> {
    if (this.#unchecked === 0) return;
    this.#unchecked = 0;
    await this.#options.store.files.file.checkpoint();
  }

  /** Publishes `agent_status` when it changed (always when answering a command). */
  async #publish(blockId: string, running: Running, reqId?: string): Promise<BusEvent[]> {
    const draft = statusEvent(blockId, running.session.status);
    const text = JSON.stringify(draft);
    if (text === running.lastStatus && reqId === undefined) return [];
    running.lastStatus = text;
    return this.#options.core.emit([draft], reqId);
  }

  /** Keeps pid, start time, conversation id and usage in block meta, so a restart can find them. */
  async #persistMeta(blockId: string, running: Running, status: SessionStatus): Promise<void> {
    const want: Record<string, unknown> = {
      "session:active_pid": status.pid,
      "session:pid_start": status.pidStartTime,
      "session:id": status.sessionId,
      "session:usage": status.usage,
    };
    if (status.pid !== null) want["session:was_interrupted"] = null;
    const patch: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(want))
      if (JSON.stringify(running.lastMeta[k]) !== JSON.stringify(v)) patch[k] = v;
    if (Object.keys(patch).length === 0 || !this.#options.core.state.blocks.has(blockId)) return;
    Object.assign(running.lastMeta, patch);
    await this.#options.core.submit(
      { cmd: "update_block_meta", block_id: blockId, meta_patch: patch as Meta },
      { registeredPid: null },
    );
  }

  async #read(blockId: string, offset: number, limit: number, reqId: string | undefined): Promise<Event> {
    const files = this.#options.store.files;
    const info = await files.stat(blockId, TRANSCRIPT);
    let at = offset;
    let data = "";
    if (info !== undefined && offset < info.size) {
      const r = await files.read(blockId, TRANSCRIPT, offset, limit);
      // Never end inside a UTF-8 sequence; the rest comes with the next read.
      const end = r.offset + r.data.length < r.size ? utf8Boundary(r.data, r.data.length) : r.data.length;
      at = r.offset;
      data = r.data.toString("utf8", 0, end);
    }
    const ev = outputEvent(blockId, at, data);
    if (reqId !== undefined) ev.req_id = reqId;
    return ev;
  }

  /** Whatever was deleted takes its agents and transcripts with it. */
  #onEvent(ev: BusEvent): void {
    let gone: string[];
    if (ev.event === "block_deleted") gone = [ev.block_id];
    else if (ev.event === "tab_deleted" || ev.event === "workspace_deleted") gone = ev.block_ids;
    else return;
    for (const blockId of gone) {
      const running = this.#sessions.get(blockId);
      this.#sessions.delete(blockId);
      const stopped = running ? running.session.close().then(() => running.writing) : Promise.resolve();
      void this.#track(stopped.then(() => this.#options.store.files.deleteZone(blockId)));
    }
  }

  #track<T>(p: Promise<T>): Promise<T | undefined> {
    const tracked = p.catch((err: unknown) => {
      if (!this.#closing) this.#options.logger.error({ err }, "agent bookkeeping failed");
      return undefined;
    });
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
    return tracked;
  }
}

class AgentMetaError extends Error {}

type Controller = typeof import("@agentmux/agent-controller");

function providerFor({ acp, claude, codex, gemini }: Controller, meta: AgentMeta): Provider {
  const args = meta["agent:args"] ?? [];
  switch (meta["agent:provider"]) {
    case "claude":
      return claude({ permissions: meta["agent:permissions"] ?? "ask", extraArgs: args });
    case "codex":
      return codex({ extraArgs: args });
    case "gemini":
      return gemini({ extraArgs: args });
    case "acp": {
      const command = meta["agent:command"];
      if (command === undefined) throw new AgentMetaError("an acp agent needs agent:command");
      return acp({ command, args });
    }
  }
}

function statusEvent(blockId: string, s: SessionStatus): DraftEvent {
  return {
    event: "agent_status",
    block_id: blockId,
    status: s.status,
    pid: s.pid,
    exit_code: s.exitCode,
    turn_active: s.turnActive,
    session_id: s.sessionId,
    needs_input: s.needsInput.length > 0,
    usage: s.usage,
    requests: s.needsInput.map((r) => ({ request_id: r.requestId, tool: r.tool, input: toJson(r.input) })),
    fault: s.fault
      ? { kind: s.fault.kind, fatal: s.fault.fatal, message: s.fault.message, resets_at: s.fault.resetsAt ?? null }
      : null,
  };
}

function outputEvent(blockId: string, offset: number, data: string): BlockOutput {
  return { event: "block_output", block_id: blockId, offset, data, version: 0 };
}

/** A tool's input as plain JSON (it came from JSON, but the type does not say so). */
function toJson(value: unknown): JsonValue {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
}

/** The largest index ≤ `end` that does not split a UTF-8 sequence. */
function utf8Boundary(buf: Buffer, end: number): number {
  if (end >= buf.length) return buf.length;
  let i = end;
  // Step back over continuation bytes (10xxxxxx) to the start of the sequence end cuts.
  while (i > 0 && i > end - 4 && ((buf[i] as number) & 0xc0) === 0x80) i--;
  return i > 0 ? i : end;
}
