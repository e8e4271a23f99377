import type { BusEvent, EventOf } from "@agentmux/common-ipc";

/** An agent as the event history tells it: its block, where it is, what its meta and last status say. */
export interface AgentView {
  blockId: string;
  tabId: string;
  name: string | null;
  provider: string;
  cwd: string;
  sessionId: string | null;
  status: "idle" | "working" | "needs input" | "rate-limited" | "failed" | "stopped" | "interrupted" | "new";
  pid: number | null;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  fault: string | null;
  /** Permission requests it is waiting on. */
  requests: { id: string; tool: string }[];
}

type Meta = Record<string, unknown>;
type Status = Omit<EventOf<"agent_status">, "version" | "req_id">;

/**
 * The fleet: srv's `agent_list` reply, kept up to date one event at a time after it:
 * block_created and block_meta_updated carry the meta, agent_status the live state, deletions
 * remove blocks. Holds one entry per block, however long it follows srv.
 */
export class Fleet {
  readonly #metas = new Map<string, { tabId: string; meta: Meta }>();
  readonly #status = new Map<string, Status>();
  /** The state version the fleet reflects: events at or below it are already in. */
  version = 0;

  /** The fleet of an `agent_list` reply. */
  static of(list: EventOf<"agent_list">): Fleet {
    const fleet = new Fleet();
    fleet.version = list.version;
    for (const a of list.agents) {
      fleet.#metas.set(a.block_id, { tabId: a.tab_id, meta: { ...a.meta } });
      if (a.status) fleet.#status.set(a.block_id, a.status);
    }
    return fleet;
  }

  apply(ev: BusEvent): void {
    if (ev.version <= this.version) return;
    this.version = ev.version;
    switch (ev.event) {
      case "block_created":
        this.#metas.set(ev.block_id, { tabId: ev.tab_id, meta: { ...(ev.meta ?? {}) } });
        break;
      case "block_meta_updated": {
        const m = this.#metas.get(ev.block_id);
        for (const [k, v] of Object.entries(m ? ev.meta_patch : {})) {
          if (v === null) delete m?.meta[k];
          else if (m) m.meta[k] = v;
        }
        break;
      }
      case "block_moved": {
        const m = this.#metas.get(ev.block_id);
        if (m) m.tabId = ev.dst_tab_id;
        break;
      }
      case "block_deleted":
        this.#forget(ev.block_id);
        break;
      case "tab_deleted":
      case "workspace_deleted":
        for (const id of ev.block_ids) this.#forget(id);
        break;
      case "agent_status":
        this.#status.set(ev.block_id, ev);
        break;
    }
  }

  #forget(blockId: string): void {
    this.#metas.delete(blockId);
    this.#status.delete(blockId);
  }

  /** The provider of an agent block (undefined: not an agent block). */
  provider(blockId: string): string | undefined {
    const meta = this.#metas.get(blockId)?.meta;
    return meta?.view === "agent" ? String(meta["agent:provider"] ?? "?") : undefined;
  }

  /** The agent blocks now. */
  agents(): AgentView[] {
    const agents: AgentView[] = [];
    for (const [blockId, { tabId, meta }] of this.#metas) {
      if (meta.view !== "agent") continue;
      const s = this.#status.get(blockId);
      const usage = (s?.usage ?? (meta["session:usage"] as Meta | undefined) ?? {}) as Meta;
      agents.push({
        blockId,
        tabId,
        name: typeof meta["agent:name"] === "string" ? meta["agent:name"] : null,
        provider: String(meta["agent:provider"] ?? "?"),
        cwd: String(meta["agent:cwd"] ?? ""),
        sessionId: s?.session_id ?? (typeof meta["session:id"] === "string" ? meta["session:id"] : null),
        status: statusOf(s, meta),
        pid: s?.pid ?? null,
        tokensIn: Number(usage.input_tokens ?? 0),
        tokensOut: Number(usage.output_tokens ?? 0),
        costUsd: Number(usage.cost_usd ?? 0),
        fault: s?.fault?.message ?? null,
        requests: (s?.requests ?? []).map((r) => ({ id: r.request_id, tool: r.tool })),
      });
    }
    return agents;
  }
}

function statusOf(s: Status | undefined, meta: Meta): AgentView["status"] {
  if (s === undefined)
    return meta["session:was_interrupted"] === true ? "interrupted" : meta["session:id"] ? "stopped" : "new";
  if (s.needs_input) return "needs input";
  if (s.fault?.kind === "rate_limit") return "rate-limited";
  if (s.fault?.fatal) return "failed";
  if (s.turn_active) return "working";
  if (s.pid === null) return s.fault ? "failed" : "stopped";
  return "idle";
}
