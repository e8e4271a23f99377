// What the page knows about srv: workspaces, tabs, agents and their status, watched tab layouts
// and open transcripts, kept current from srv's events (and caught up after a reconnect).
import type { CommandInput, Event, EventOf, ResizeOp } from "@agentmux/common-ipc";
import { type AgentStatusData, type Meta, needsInput } from "./agents.js";
import { TranscriptFeed } from "./feed.js";
import { emptyLayout, foldLayout, layoutTab, resized, type TabLayout } from "./layout.js";
import { notify } from "./notify.js";
import { Connection, type ConnectionState, type RequestError, type RequestOptions } from "./ws.js";

export interface AgentEntry {
  blockId: string;
  tabId: string;
  meta: Meta;
  /** The state version of the last event that touched the entry. */
  version: number;
}

export interface StatusEntry {
  status: AgentStatusData;
  version: number;
  /** When the page saw it (ms). */
  at: number;
}

export interface Tab {
  id: string;
  workspaceId: string;
  name: string;
}

/** Events that answer one client and carry no version of their own to track. */
const PRIVATE = new Set(["event_list", "agent_list", "layout_state", "error", "block_output", "registered", "pong"]);

type Listener = () => void;

/** The status fields, with the wire defaults filled in (a sender may leave defaulted fields out). */
function statusData(s: AgentStatusData): AgentStatusData {
  return {
    block_id: s.block_id,
    status: s.status,
    pid: s.pid ?? null,
    exit_code: s.exit_code ?? null,
    turn_active: s.turn_active === true,
    session_id: s.session_id ?? null,
    needs_input: s.needs_input === true,
    usage: s.usage ?? null,
    requests: Array.isArray(s.requests) ? s.requests : [],
    fault: s.fault ?? null,
  };
}

export class Store {
  readonly conn: Connection;
  connection: ConnectionState = "connecting";
  /** workspace id → name, in srv's order (by id), new ones last. */
  readonly workspaces = new Map<string, string>();
  readonly tabs = new Map<string, Tab>();
  /** workspace id → its active tab. */
  readonly activeTabs = new Map<string, string>();
  /** block id → its tab. */
  readonly blocks = new Map<string, string>();
  readonly agents = new Map<string, AgentEntry>();
  readonly statuses = new Map<string, StatusEntry>();
  /** block id → when the page last saw it change (ms). */
  readonly activity = new Map<string, number>();
  readonly layouts = new Map<string, TabLayout>();
  readonly feeds = new Map<string, TranscriptFeed>();
  agentsLoaded = false;
  snapshotLoaded = false;
  /** The highest version of a broadcast event applied. */
  lastVersion = 0;
  /** A message about the connection or srv itself, for the header. */
  notice: string | null = null;
  revision = 0;
  #catchingUp = false;
  #held: Event[] = [];
  readonly #listeners = new Set<Listener>();
  #flush: ReturnType<typeof setTimeout> | null = null;
  /** Tabs whose layout is being asked for again. */
  readonly #layoutAsks = new Set<string>();
  /** Layout events that came before the layout they apply to. */
  readonly #layoutEarly = new Map<string, Event[]>();

  constructor(url: string) {
    this.conn = new Connection(url, {
      onOpen: (reconnected) => this.#opened(reconnected),
      onEvent: (ev) => this.#event(ev),
      onState: (state) => {
        this.connection = state;
        this.changed();
      },
      onRetry: () => void this.#checkSession(),
    });
  }

  /**
   * A WebSocket refused at the upgrade looks like any lost connection to a page (no status is
   * exposed), so ask srv for the page itself: a 401 means the session is gone (it expired, or
   * srv's data dir was wiped), and only a new login link helps. Retrying goes on meanwhile.
   */
  async #checkSession(): Promise<void> {
    try {
      const res = await fetch("/", { method: "HEAD", cache: "no-store", credentials: "same-origin" });
      if (res.status === 401) {
        this.#setNotice("Signed out: open a new dashboard link (run agentmux dashboard) to sign in again.");
      }
    } catch {
      // srv is down: the reconnect loop says so.
    }
  }

  start(): void {
    this.conn.start();
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Views re-render at most once per frame-ish tick, however many events came. */
  changed(): void {
    this.revision++;
    if (this.#flush !== null) return;
    this.#flush = setTimeout(() => {
      this.#flush = null;
      for (const l of this.#listeners) l();
    }, 16);
  }

  request(cmd: CommandInput, options?: RequestOptions): Promise<Event[]> {
    return this.conn.request(cmd, options);
  }

  /**
   * A command whose success may cause no event of its own (an agent command that changed
   * nothing visible): accepted once an event carries its req_id or `quietMs` passes without a
   * refusal; rejects with srv's error.
   */
  act(cmd: CommandInput, quietMs = 4000): Promise<void> {
    return this.conn.request(cmd, { timeoutMs: quietMs }).then(
      () => undefined,
      (err: RequestError) => {
        if (err.code !== "timeout") throw err;
      },
    );
  }

  // --- connection ------------------------------------------------------------

  #opened(reconnected: boolean): void {
    this.notice = null;
    if (reconnected) {
      this.#catchingUp = true;
      this.#held = [];
      this.conn
        .request(
          { cmd: "get_events", since: this.lastVersion },
          { done: (ev) => ev.event !== "event_list" || !ev.more },
        )
        .catch(() => {
          // No catch-up: start over from a fresh snapshot.
          this.#endCatchUp();
          this.#ask({ cmd: "get_srv_snapshot" });
        });
    }
    this.#ask({ cmd: "list_agents" });
    if (!reconnected) this.#ask({ cmd: "get_srv_snapshot" });
    this.#syncOutput();
    for (const feed of this.feeds.values()) if (feed.active) void feed.catchUp();
    for (const tabId of this.layouts.keys()) this.#askLayout(tabId);
  }

  /** A request whose reply is handled as an event (`agent_list`, `srv_snapshot`): only its failure matters here. */
  #ask(cmd: CommandInput): void {
    this.conn.request(cmd).catch((err: RequestError) => {
      if (err.code !== "disconnected") this.#setNotice(`${cmd.cmd} failed: ${err.message}`);
    });
  }

  #setNotice(text: string | null): void {
    this.notice = text;
    this.changed();
  }

  #event(ev: Event): void {
    switch (ev.event) {
      case "agent_list":
        this.#agentList(ev);
        return;
      case "event_list":
        this.#eventList(ev);
        return;
      case "layout_state":
        this.#layoutState(ev);
        return;
      case "block_output":
        // Replies to `get_block_output` are read by the feed that asked.
        if (ev.req_id === undefined) this.#output(ev);
        return;
      case "error":
        if (ev.req_id === undefined) this.#setNotice(`srv: ${ev.message}`);
        return;
    }
    if (PRIVATE.has(ev.event)) return;
    if (ev.version === 0) {
      this.#apply(ev, true);
      return;
    }
    if (this.#catchingUp) {
      this.#held.push(ev);
      return;
    }
    this.#applyVersioned(ev, true);
  }

  #applyVersioned(ev: Event, live: boolean): void {
    if (ev.version <= this.lastVersion) return;
    this.lastVersion = ev.version;
    this.#apply(ev, live);
  }

  #eventList(ev: EventOf<"event_list">): void {
    // A history that went backwards is another srv's (a new data dir): start over.
    if (ev.version < this.lastVersion) {
      this.lastVersion = 0;
      for (const a of this.agents.values()) a.version = 0;
      for (const s of this.statuses.values()) s.version = 0;
      for (const [tabId, l] of this.layouts) this.layouts.set(tabId, { ...l, version: 0 });
      this.#ask({ cmd: "get_srv_snapshot" });
    }
    for (const e of ev.events) this.#applyVersioned(e, false);
    if (ev.truncated) this.#ask({ cmd: "get_srv_snapshot" });
    if (!ev.more) this.#endCatchUp();
  }

  #endCatchUp(): void {
    if (!this.#catchingUp) return;
    this.#catchingUp = false;
    const held = this.#held.sort((a, b) => a.version - b.version);
    this.#held = [];
    for (const e of held) this.#applyVersioned(e, true);
    this.changed();
  }

  // --- state -----------------------------------------------------------------

  #apply(ev: Event, live: boolean): void {
    const tabId = layoutTab(ev);
    if (tabId !== undefined) {
      this.#layoutEvent(tabId, ev);
      return;
    }
    switch (ev.event) {
      case "srv_snapshot":
        this.#snapshot(ev);
        break;
      case "workspace_created":
      case "workspace_renamed":
        this.workspaces.set(ev.workspace_id, ev.name);
        break;
      case "workspace_deleted":
        this.workspaces.delete(ev.workspace_id);
        this.activeTabs.delete(ev.workspace_id);
        for (const [id, t] of this.tabs) if (t.workspaceId === ev.workspace_id) this.tabs.delete(id);
        for (const id of ev.block_ids) this.#forgetBlock(id);
        break;
      case "tab_created":
        this.tabs.set(ev.tab_id, { id: ev.tab_id, workspaceId: ev.workspace_id, name: ev.name });
        break;
      case "tab_renamed": {
        const t = this.tabs.get(ev.tab_id);
        if (t) this.tabs.set(ev.tab_id, { ...t, name: ev.name });
        break;
      }
      case "tab_deleted":
        this.tabs.delete(ev.tab_id);
        if (this.activeTabs.get(ev.workspace_id) === ev.tab_id) this.activeTabs.delete(ev.workspace_id);
        for (const id of ev.block_ids) this.#forgetBlock(id);
        break;
      case "tab_moved": {
        const t = this.tabs.get(ev.tab_id);
        if (t) this.tabs.set(ev.tab_id, { ...t, workspaceId: ev.dst_workspace_id });
        if (ev.new_src_active_tab_id) this.activeTabs.set(ev.src_workspace_id, ev.new_src_active_tab_id);
        else if (this.activeTabs.get(ev.src_workspace_id) === ev.tab_id) this.activeTabs.delete(ev.src_workspace_id);
        if (ev.new_dst_active_tab_id) this.activeTabs.set(ev.dst_workspace_id, ev.new_dst_active_tab_id);
        break;
      }
      case "active_tab_changed":
        if (ev.tab_id) this.activeTabs.set(ev.workspace_id, ev.tab_id);
        else this.activeTabs.delete(ev.workspace_id);
        break;
      case "block_created":
        this.blocks.set(ev.block_id, ev.tab_id);
        if (ev.meta?.view === "agent" && !this.agents.has(ev.block_id)) {
          this.agents.set(ev.block_id, {
            blockId: ev.block_id,
            tabId: ev.tab_id,
            meta: { ...ev.meta },
            version: ev.version,
          });
          this.activity.set(ev.block_id, Date.now());
        }
        break;
      case "block_deleted":
        this.#forgetBlock(ev.block_id);
        break;
      case "block_moved": {
        this.blocks.set(ev.block_id, ev.dst_tab_id);
        const a = this.agents.get(ev.block_id);
        if (a) this.agents.set(ev.block_id, { ...a, tabId: ev.dst_tab_id, version: ev.version });
        break;
      }
      case "block_meta_updated":
        this.#metaPatch(ev.block_id, ev.meta_patch, ev.version);
        break;
      case "agent_status":
        this.#status(ev, live);
        break;
      default:
        return;
    }
    this.changed();
  }

  #snapshot(ev: EventOf<"srv_snapshot">): void {
    this.workspaces.clear();
    for (const [id, name] of ev.workspaces) this.workspaces.set(id, name);
    this.tabs.clear();
    for (const [id, workspaceId, name] of ev.tabs) this.tabs.set(id, { id, workspaceId, name });
    this.activeTabs.clear();
    for (const [ws, tab] of ev.active_tabs) this.activeTabs.set(ws, tab);
    this.blocks.clear();
    for (const [block, tab] of ev.blocks) this.blocks.set(block, tab);
    for (const id of this.agents.keys()) if (!this.blocks.has(id)) this.#forgetBlock(id);
    this.snapshotLoaded = true;
  }

  #agentList(ev: EventOf<"agent_list">): void {
    const listed = new Set<string>();
    for (const a of ev.agents) {
      listed.add(a.block_id);
      const known = this.agents.get(a.block_id);
      // An event newer than the list already told the page more.
      if (!known || known.version <= ev.version)
        this.agents.set(a.block_id, { blockId: a.block_id, tabId: a.tab_id, meta: { ...a.meta }, version: ev.version });
      const s = this.statuses.get(a.block_id);
      if (a.status && (!s || s.version <= ev.version))
        this.statuses.set(a.block_id, { status: statusData(a.status), version: ev.version, at: s?.at ?? 0 });
    }
    for (const [id, a] of this.agents) if (!listed.has(id) && a.version <= ev.version) this.#forgetBlock(id);
    this.agentsLoaded = true;
    this.changed();
  }

  #metaPatch(blockId: string, patch: Meta, version: number): void {
    const known = this.agents.get(blockId);
    if (known && known.version >= version) return;
    const meta: Meta = { ...(known?.meta ?? {}) };
    for (const [k, v] of Object.entries(patch)) {
      if (k.endsWith(":*") && v === true) {
        const prefix = k.slice(0, -1);
        for (const key of Object.keys(meta)) if (key.startsWith(prefix)) delete meta[key];
      } else if (v === null) delete meta[k];
      else meta[k] = v;
    }
    const tabId = known?.tabId ?? this.blocks.get(blockId);
    if (meta.view === "agent" && tabId !== undefined) this.agents.set(blockId, { blockId, tabId, meta, version });
    else if (known) this.agents.delete(blockId);
  }

  #status(ev: EventOf<"agent_status">, live: boolean): void {
    const known = this.statuses.get(ev.block_id);
    // `agent_list` answered after this event was made: it already holds as much.
    if (known && known.version > ev.version) return;
    const status = statusData(ev);
    const before = known?.status;
    this.statuses.set(ev.block_id, { status, version: ev.version, at: Date.now() });
    this.activity.set(ev.block_id, Date.now());
    if (live && !needsInput(before) && needsInput(status)) {
      const agent = this.agents.get(ev.block_id);
      const name = (agent?.meta["agent:name"] as string | undefined) ?? ev.block_id;
      const tool = status.requests[0]?.tool;
      notify(`${name} needs input`, tool ? `It asks to use ${tool}.` : "It is waiting for you.", ev.block_id);
    }
  }

  #forgetBlock(blockId: string): void {
    this.blocks.delete(blockId);
    this.agents.delete(blockId);
    this.statuses.delete(blockId);
    this.activity.delete(blockId);
    const feed = this.feeds.get(blockId);
    if (feed) {
      this.feeds.delete(blockId);
      if (feed.active) this.#syncOutput();
    }
  }

  /** The tab new agents go into: the first workspace's active tab, else its first tab. */
  defaultTab(): string | null {
    const first = this.workspaces.keys().next();
    if (first.done) return null;
    const ws = first.value;
    const active = this.activeTabs.get(ws);
    if (active !== undefined && this.tabs.has(active)) return active;
    for (const t of this.tabs.values()) if (t.workspaceId === ws) return t.id;
    return null;
  }

  // --- transcripts -------------------------------------------------------------

  /** Opens (or reopens) an agent's transcript: srv pushes its output here until `closeFeed`. */
  openFeed(blockId: string, provider: string): TranscriptFeed {
    let feed = this.feeds.get(blockId);
    if (feed === undefined || feed.provider !== provider) {
      feed = new TranscriptFeed(blockId, provider, this.conn, () => this.changed());
      this.feeds.set(blockId, feed);
    }
    feed.active = true;
    // Subscribed first, then read up to the end: what is written in between arrives both ways,
    // and the feed keeps each byte once.
    this.#syncOutput();
    void feed.catchUp();
    return feed;
  }

  closeFeed(blockId: string): void {
    const feed = this.feeds.get(blockId);
    if (!feed?.active) return;
    feed.active = false;
    this.#syncOutput();
  }

  /** `subscribe_output` names the whole set each time: the open feeds. */
  #syncOutput(): void {
    const ids = [...this.feeds.values()].filter((f) => f.active).map((f) => f.blockId);
    this.conn.send({ cmd: "subscribe_output", block_ids: ids });
  }

  #output(ev: EventOf<"block_output">): void {
    const feed = this.feeds.get(ev.block_id);
    if (!feed?.active) return;
    this.activity.set(ev.block_id, Date.now());
    feed.push(ev.offset, ev.data);
  }

  // --- layouts -----------------------------------------------------------------

  watchTab(tabId: string): void {
    if (!this.layouts.has(tabId)) this.layouts.set(tabId, emptyLayout());
    this.#askLayout(tabId);
  }

  unwatchTab(tabId: string): void {
    this.layouts.delete(tabId);
    this.#layoutEarly.delete(tabId);
  }

  #askLayout(tabId: string): void {
    if (this.#layoutAsks.has(tabId)) return;
    this.#layoutAsks.add(tabId);
    this.conn
      .request({ cmd: "get_layout", tab_id: tabId })
      .catch((err: RequestError) => {
        const l = this.layouts.get(tabId);
        if (l && err.code !== "disconnected") {
          this.layouts.set(tabId, { ...l, loaded: true });
          this.#setNotice(`layout of tab ${tabId}: ${err.message}`);
        }
      })
      .finally(() => this.#layoutAsks.delete(tabId));
  }

  #layoutState(ev: EventOf<"layout_state">): void {
    const l = this.layouts.get(ev.tab_id);
    if (!l || (l.loaded && ev.version < l.version)) return;
    this.layouts.set(ev.tab_id, foldLayout(l, ev));
    const early = this.#layoutEarly.get(ev.tab_id) ?? [];
    this.#layoutEarly.delete(ev.tab_id);
    for (const e of early) this.#layoutEvent(ev.tab_id, e);
    this.changed();
  }

  #layoutEvent(tabId: string, ev: Event): void {
    const l = this.layouts.get(tabId);
    if (!l) return;
    if (!l.loaded) {
      // Kept until the layout arrives: events newer than it still apply then.
      const early = this.#layoutEarly.get(tabId) ?? [];
      early.push(ev);
      this.#layoutEarly.set(tabId, early);
      return;
    }
    if (ev.version <= l.version) return;
    this.layouts.set(tabId, foldLayout(l, ev));
    this.changed();
  }

  /** Shows sizes without sending them (a divider being dragged). */
  previewResize(tabId: string, ops: ResizeOp[]): void {
    const l = this.layouts.get(tabId);
    if (!l?.tree) return;
    this.layouts.set(tabId, resized(l, ops));
    this.changed();
  }

  /** Resizes siblings: shown at once, then sent; a refusal brings srv's layout back. */
  resize(tabId: string, ops: ResizeOp[]): Promise<void> {
    this.previewResize(tabId, ops);
    return this.conn.request({ cmd: "layout_resize_nodes", tab_id: tabId, ops }).then(
      () => undefined,
      (err: RequestError) => {
        this.#askLayout(tabId);
        throw err;
      },
    );
  }
}
