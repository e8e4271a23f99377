import type { Guardian, Session, SessionClaims, StopDeadlines, Usage } from "@agentmux/agent-controller";
import type { BusEvent, ErrorCode, Event, RoutedCommand } from "@agentmux/common-ipc";
import { errorEvent } from "@agentmux/common-ipc";
import type { Store } from "@agentmux/store";
import type { Logger } from "pino";
import { type Dispatcher, SRV_ORIGIN, type Subscription } from "../dispatcher.js";
import { AgentMetaError, AgentNotRunningError } from "../errors.js";
import { type LaunchContext, launchFor, parseAgentMeta } from "./launch.js";
import { idleStatus, metaPatch, SESSION_META_KEYS, statusEvent } from "./status.js";
import type { BlockOutput, Transcripts } from "./transcript.js";

export const AGENTS_DEFAULTS = Object.freeze({
  /** Stop ladder at shutdown: quicker than an `agent_stop`, since srv has a deadline to keep. */
  closeDeadlines: Object.freeze({ interruptMs: 200, eofMs: 300, termMs: 300 }),
});

type Controller = typeof import("@agentmux/agent-controller");

export interface AgentsOptions {
  dispatcher: Dispatcher;
  store: Store;
  transcripts: Transcripts;
  logger: Logger;
  launch: LaunchContext;
  deadlines?: Partial<StopDeadlines>;
}

interface Running {
  session: Session;
  /** The last `agent_status` published (its JSON), so only changes are published. */
  lastStatus: string;
  /** What the block's meta says now, so only changes are written. */
  lastMeta: Record<string, unknown>;
  /** The agent writes every user turn it takes back to its transcript (claude with `--replay-user-messages`). */
  echoesInput: boolean;
}

/**
 * srv's agent runtime: one agent-controller session per agent block. What the
 * sessions emit is persisted (transcripts through `Transcripts`; status as one
 * dispatcher job: the block meta a restart needs, and `agent_status`).
 */
export class Agents {
  readonly #sessions = new Map<string, Running>();
  /** Sessions of deleted blocks, still stopping. */
  readonly #retiring = new Set<Session>();
  readonly #opening = new Map<string, Promise<Running>>();
  readonly #options: AgentsOptions;
  readonly #background = new Set<Promise<unknown>>();
  #claims: SessionClaims | undefined;
  /**
   * Kills every agent process group if srv dies without stopping them (a SIGKILL, the OOM
   * killer): started with the controller, so a srv that never runs an agent has none.
   */
  #guardian: Guardian | undefined;
  /** The agent controller (with the ACP SDK and rxjs under it) loads on first use: a start with no agent does not pay for it. */
  #controller: Promise<Controller> | undefined;
  #closing = false;

  constructor(options: AgentsOptions) {
    this.#options = options;
    options.dispatcher.subscribe((ev) => this.#onEvent(ev));
  }

  /** Transcript pushes of every agent. */
  subscribeOutput(listener: (out: BlockOutput) => void): Subscription {
    return this.#options.transcripts.subscribe(listener);
  }

  /**
   * After a crash: agents that were running have `session:active_pid` in their meta. A survivor
   * is stopped (only if its start time matches, so a reused pid is never hit), the pid cleared
   * and the block flagged `session:was_interrupted`; the next send resumes the conversation.
   * A survivor that cannot be stopped is logged and reported (`agent_status.fault`); srv serves anyway.
   */
  async recover(): Promise<number> {
    const { store, dispatcher, logger } = this.#options;
    // Only blocks that name an active pid are read: boot time must not grow with the block count.
    const survivors = (await store.objects.withMetaKey("block", "session:active_pid")).flatMap((block) => {
      const pid = block.meta["session:active_pid"];
      const startTime = block.meta["session:pid_start"];
      if (block.meta.view !== "agent" || typeof pid !== "number" || pid <= 0) return [];
      return [{ blockId: block.oid, record: { pid, startTime: typeof startTime === "string" ? startTime : null } }];
    });
    if (survivors.length === 0) return 0;
    const { reapOrphan } = await this.#load();
    // All guarded before any is stopped: if srv dies meanwhile, the guardian finishes the job.
    for (const { record } of survivors) this.#guardian?.guard(record);
    await Promise.all(
      survivors.map(async ({ blockId, record }) => {
        try {
          const outcome = await reapOrphan(record);
          logger.warn({ block: blockId, pid: record.pid, outcome }, "agent of the previous run found");
        } catch (err) {
          const message = `could not stop the agent of the previous run (pid ${record.pid}): ${(err as Error).message}`;
          logger.error({ err, block: blockId, pid: record.pid }, message);
          await dispatcher.emit([idleStatus(blockId, message)]);
          return;
        } finally {
          this.#guardian?.release(record.pid);
        }
        const meta_patch = { "session:active_pid": null, "session:pid_start": null, "session:was_interrupted": true };
        await dispatcher.submit({ cmd: "update_block_meta", block_id: blockId, meta_patch }, SRV_ORIGIN);
      }),
    );
    return survivors.length;
  }

  /** Runs an agent command; returns the broadcast events it caused and private replies. */
  async execute(cmd: RoutedCommand<"agent">): Promise<{ caused: BusEvent[]; replies: Event[] }> {
    const reqId = cmd.req_id;
    const refuse = (code: ErrorCode, message: string) => ({
      caused: [],
      replies: [errorEvent(code, message, { reqId })],
    });
    if (cmd.cmd === "list_agents") return { caused: [], replies: [await this.#list(reqId)] };
    const blockId = cmd.block_id;
    if (!this.#options.dispatcher.state.blocks.has(blockId)) return refuse("not_found", `no block ${blockId}`);
    try {
      if (cmd.cmd === "get_block_output") {
        const { transcripts } = this.#options;
        const out =
          cmd.before === undefined
            ? await transcripts.read(blockId, cmd.offset, cmd.limit, reqId)
            : await transcripts.readBefore(blockId, cmd.before, cmd.limit, reqId);
        return { caused: [], replies: [out] };
      }
      if (cmd.cmd === "agent_send") {
        const running = await this.#open(blockId);
        running.session.send(cmd.message);
        return { caused: await this.#sync(blockId, running, reqId), replies: [] };
      }
      const running = this.#sessions.get(blockId);
      if (!running) throw new AgentNotRunningError(blockId);
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
      return { caused: await this.#sync(blockId, running, reqId), replies: [] };
    } catch (err) {
      if (err instanceof AgentMetaError || err instanceof AgentNotRunningError)
        return refuse("invalid_command", err.message);
      if (err instanceof (await this.#load()).AgentError) return refuse("agent_busy", err.message);
      throw err;
    }
  }

  /** Every agent block now: meta from the store, the last status of those srv runs. */
  async #list(reqId: string | undefined): Promise<Event> {
    const { dispatcher, store } = this.#options;
    const { state } = dispatcher;
    const version = dispatcher.version;
    const ids = [...state.agentTags].filter(([, tag]) => tag.view === "agent").map(([blockId]) => blockId);
    const blocks = await Promise.all(ids.map((blockId) => store.objects.get("block", blockId)));
    const agents = blocks.flatMap((block) => {
      const tabId = block && state.blocks.get(block.oid);
      const workspaceId = tabId && state.tabs.get(tabId)?.workspaceId;
      if (!block || !tabId || !workspaceId) return [];
      const running = this.#sessions.get(block.oid);
      const status = running ? statusEvent(block.oid, running.session.status) : null;
      return [{ block_id: block.oid, tab_id: tabId, workspace_id: workspaceId, meta: block.meta, status }];
    });
    return { event: "agent_list", agents, version, ...(reqId ? { req_id: reqId } : {}) } as Event;
  }

  /**
   * Hands a message to the block's agent as a user turn (starting the agent if it is not
   * running; while a turn runs, it waits in the session's queue for the turn's end). Resolves
   * once the session queued it, with whether the agent will echo the turn into its transcript
   * when it takes it and where the transcript stood before (the echo can only come after); rejects with the session's error (queue full, conversation held
   * elsewhere, block gone).
   */
  async deliver(blockId: string, text: string): Promise<{ echoes: boolean; from: number }> {
    if (!this.#options.dispatcher.state.blocks.has(blockId)) throw new AgentMetaError(`block ${blockId} is gone`);
    const running = await this.#open(blockId);
    const from = await this.#options.transcripts.size(blockId);
    running.session.send(text);
    await this.#track(this.#sync(blockId, running));
    return { echoes: running.echoesInput, from };
  }

  /** Resolves true once the block's transcript holds `needle` (false on abort or timeout). */
  transcriptWaitFor(
    blockId: string,
    needle: string,
    options: { signal?: AbortSignal; timeoutMs?: number; from?: number },
  ): Promise<boolean> {
    return this.#options.transcripts.waitFor(blockId, needle, options);
  }

  /** The last `bytes` (about) of the block's transcript; `fromStart` when that is all of it. */
  async transcriptTail(blockId: string, bytes: number): Promise<{ text: string; fromStart: boolean }> {
    const { transcripts } = this.#options;
    await transcripts.flushed(blockId);
    const out = await transcripts.readBefore(blockId, Number.MAX_SAFE_INTEGER, bytes);
    return { text: out.data, fromStart: out.offset === 0 };
  }

  /** Whether the block's transcript holds `needle` (e.g. a message id the agent echoed back). */
  transcriptIncludes(blockId: string, needle: string): Promise<boolean> {
    return this.#options.transcripts.includes(blockId, needle);
  }

  /**
   * SIGKILLs every running agent's process group, synchronously: the last resort when srv must
   * exit before the stop ladder could finish (the shutdown deadline, a fatal error).
   */
  killAll(): number {
    let killed = 0;
    for (const session of [...[...this.#sessions.values()].map((r) => r.session), ...this.#retiring]) {
      const pid = session.status.pid;
      if (pid === null) continue;
      try {
        process.kill(-pid, "SIGKILL");
        killed++;
      } catch {
        // already gone
      }
    }
    return killed;
  }

  /** Stops every agent (the stop ladder, within its deadlines) and writes what they left. */
  async close(): Promise<void> {
    this.#closing = true;
    const deadlines = AGENTS_DEFAULTS.closeDeadlines;
    // Openings in flight end first (refused: srv is closing), so none is missed below.
    await Promise.allSettled([...this.#opening.values()]);
    await Promise.allSettled([...this.#sessions.values()].map((r) => r.session.close({ deadlines })));
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
    await this.#options.transcripts.close();
    await this.#guardian?.close();
  }

  #load(): Promise<Controller> {
    this.#controller ??= import("@agentmux/agent-controller").then((controller) => {
      const { logger } = this.#options;
      this.#guardian = new controller.Guardian({
        onReplaced: (r) =>
          logger.warn(
            { guardian: r.pid, signal: r.signal, code: r.code, replacement: r.replacement },
            "the agent guardian died while srv runs; replaced, and told every agent again",
          ),
      });
      logger.info({ guardian: this.#guardian.pid }, "agent guardian started");
      return controller;
    });
    return this.#controller;
  }

  /** The block's running agent, opened on first use (concurrent first uses share one opening). */
  #open(blockId: string): Promise<Running> {
    const existing = this.#sessions.get(blockId);
    if (existing) return Promise.resolve(existing);
    if (this.#closing) return Promise.reject(new AgentNotRunningError(blockId, "cannot start: srv is shutting down"));
    let opening = this.#opening.get(blockId);
    if (!opening) {
      opening = this.#create(blockId).finally(() => this.#opening.delete(blockId));
      this.#opening.set(blockId, opening);
    }
    return opening;
  }

  async #create(blockId: string): Promise<Running> {
    const { store, logger, transcripts } = this.#options;
    const block = await store.objects.mustGet("block", blockId);
    const meta = parseAgentMeta(blockId, block.meta);
    const controller = await this.#load();
    const launch = launchFor(controller, blockId, meta, this.#options.launch);
    const offset = await transcripts.open(blockId);
    // The block may have been deleted, or srv begun stopping, while this agent was being opened.
    if (this.#closing) throw new AgentNotRunningError(blockId, "cannot start: srv is shutting down");
    if (!this.#options.dispatcher.state.blocks.has(blockId)) throw new AgentMetaError(`block ${blockId} was deleted`);
    this.#claims ??= new controller.ConversationClaims();
    const session = controller.createSession({
      provider: launch.provider,
      cwd: launch.cwd,
      ...(launch.command ? { command: launch.command } : {}),
      env: launch.env,
      sessionId: meta["session:id"] ?? null,
      transcriptOffset: offset,
      ...(meta["session:usage"] ? { usage: meta["session:usage"] as Usage } : {}),
      claims: this.#claims,
      ...(this.#options.deadlines ? { deadlines: this.#options.deadlines } : {}),
      onWarning: (message) => logger.warn({ block: blockId }, message),
      onStderr: (line) => logger.info({ block: blockId, stderr: line }, "agent stderr"),
      ...(this.#guardian ? { guardian: this.#guardian } : {}),
    });
    const lastMeta = Object.fromEntries(SESSION_META_KEYS.map((k) => [k, block.meta[k] ?? null]));
    const echoesInput =
      meta["agent:provider"] === "claude" &&
      (this.#options.launch.claudeArgs?.(meta) ?? []).includes("--replay-user-messages");
    const running: Running = { session, lastStatus: "", lastMeta, echoesInput };
    this.#sessions.set(blockId, running);
    session.output$.subscribe((line) => transcripts.append(blockId, line.data));
    session.status$.subscribe(() => void this.#track(this.#sync(blockId, running)));
    return running;
  }

  /**
   * One dispatcher job for a status change: the block meta a restart needs (pid, start time,
   * conversation, usage) when it changed, and `agent_status` when it changed (always when
   * answering a command).
   */
  #sync(blockId: string, running: Running, reqId?: string): Promise<BusEvent[]> {
    const status = running.session.status;
    const draft = statusEvent(blockId, status);
    const text = JSON.stringify(draft);
    const drafts = text !== running.lastStatus || reqId !== undefined ? [draft] : [];
    running.lastStatus = text;
    const patch = metaPatch(running.lastMeta, status);
    const live = this.#options.dispatcher.state.blocks.has(blockId);
    if (drafts.length === 0 && (patch === undefined || !live)) return Promise.resolve([]);
    return this.#options.dispatcher.apply({
      ...(patch !== undefined && live
        ? { cmd: { cmd: "update_block_meta", block_id: blockId, meta_patch: patch }, origin: SRV_ORIGIN }
        : {}),
      drafts,
      reqId,
    });
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
      let stopped: Promise<unknown> = Promise.resolve();
      if (running) {
        const { session } = running;
        this.#retiring.add(session);
        stopped = session.close().finally(() => this.#retiring.delete(session));
      }
      void this.#track(stopped.then(() => this.#options.transcripts.remove(blockId)));
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
