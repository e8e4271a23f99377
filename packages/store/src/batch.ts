import type { BusEvent } from "@agentmux/common-ipc";
import { applyLayoutEvent, fromSlices, layoutEventTab, slicesOf } from "@agentmux/reducer";
import type { Kysely } from "kysely";
import type { CompiledStatements } from "./compiled.js";
import { CorruptObjectError } from "./errors.js";
import { mergeMeta } from "./meta.js";
import { type ObjectData, ObjectShapes } from "./objects.js";
import { type ObjectsDB, type OType, objectTable as table } from "./schema.js";

interface Entry {
  otype: OType;
  oid: string;
  /** The object now, or null once deleted. */
  data: ObjectData<OType> | null;
  /** Whether the row exists in the database. */
  existed: boolean;
  /** Updates made in this batch (each bumps the row's version by one). */
  bumps: number;
  dirty: boolean;
}

/** Parses a stored row, naming the object when it is corrupt. */
export function parseObject<T extends OType>(otype: T, oid: string, text: string): ObjectData<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new CorruptObjectError(`${otype}:${oid}`, `invalid JSON (${(err as Error).message})`);
  }
  const r = ObjectShapes[otype].safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new CorruptObjectError(`${otype}:${oid}`, `${issue?.path.join(".") || "data"}: ${issue?.message}`);
  }
  return r.data as ObjectData<T>;
}

/** Event fields that name an object, and the object's type. */
const REFERENCE_FIELDS: readonly (readonly [string, "workspace" | "tab" | "block" | "window"])[] = [
  ["workspace_id", "workspace"],
  ["src_workspace_id", "workspace"],
  ["dst_workspace_id", "workspace"],
  ["tab_id", "tab"],
  ["src_tab_id", "tab"],
  ["dst_tab_id", "tab"],
  ["block_id", "block"],
  ["window_id", "window"],
];

function removeId(list: string[], id: string): void {
  const i = list.indexOf(id);
  if (i >= 0) list.splice(i, 1);
}

function insertId(list: string[], index: number, id: string): void {
  removeId(list, id);
  list.splice(Math.min(index, list.length), 0, id);
}

/**
 * The object effects of one batch of events, computed in memory and written
 * with one upsert and one delete per object type. Each object is read at
 * most once per batch.
 */
export class ObjectBatch {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly db: Kysely<ObjectsDB>,
    private readonly clientOid: string | undefined,
    private readonly statements: CompiledStatements,
  ) {}

  /**
   * Reads, with one query per object type, every object the events name
   * (by their `*workspace_id`, `*tab_id`, `*block_id` and `window_id`
   * fields), so applying them mostly hits memory.
   */
  async preload(events: readonly BusEvent[]): Promise<void> {
    const wanted: Record<"workspace" | "tab" | "block" | "window", Set<string>> = {
      workspace: new Set(),
      tab: new Set(),
      block: new Set(),
      window: new Set(),
    };
    for (const ev of events) {
      const fields = ev as unknown as Record<string, unknown>;
      for (const [key, otype] of REFERENCE_FIELDS) {
        const value = fields[key];
        if (typeof value === "string" && !this.#entries.has(`${otype}:${value}`)) wanted[otype].add(value);
      }
    }
    for (const [otype, ids] of Object.entries(wanted) as [OType, Set<string>][]) {
      const list = [...ids];
      for (let i = 0; i < list.length; i += 500) {
        const chunk = list.slice(i, i + 500);
        const rows = await this.statements.run<{ oid: string; data: string }>(
          this.db,
          `select:${otype}:${chunk.length}`,
          () => this.db.selectFrom(table(otype)).select(["oid", "data"]).where("oid", "in", chunk),
          chunk,
        );
        const found = new Map(rows.map((r) => [r.oid, r.data]));
        for (const oid of chunk) this.#remember(otype, oid, found.get(oid));
      }
    }
  }

  async #load<T extends OType>(otype: T, oid: string): Promise<Entry> {
    const key = `${otype}:${oid}`;
    const entry = this.#entries.get(key);
    if (entry !== undefined) return entry;
    const row = await this.db.selectFrom(table(otype)).select("data").where("oid", "=", oid).executeTakeFirst();
    return this.#remember(otype, oid, row?.data);
  }

  /** Records an object as read from the database (`text` undefined: no such row). */
  #remember(otype: OType, oid: string, text: string | undefined): Entry {
    const entry: Entry = {
      otype,
      oid,
      data: text === undefined ? null : parseObject(otype, oid, text),
      existed: text !== undefined,
      bumps: 0,
      dirty: false,
    };
    this.#entries.set(`${otype}:${oid}`, entry);
    return entry;
  }

  async #update<T extends OType>(otype: T, oid: string, fn: (data: ObjectData<T>) => void): Promise<void> {
    const entry = await this.#load(otype, oid);
    if (entry.data === null) return; // idempotent: nothing to update
    fn(entry.data as ObjectData<T>);
    entry.bumps++;
    entry.dirty = true;
  }

  /** Creates (or replaces) an object without reading it first: the upsert in flush() covers an existing row. */
  #create<T extends OType>(otype: T, oid: string, data: ObjectData<T>): void {
    const key = `${otype}:${oid}`;
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#entries.set(key, { otype, oid, data, existed: false, bumps: 0, dirty: true });
      return;
    }
    if (entry.data !== null) entry.bumps++;
    entry.data = data;
    entry.dirty = true;
  }

  async #delete(otype: OType, oid: string): Promise<void> {
    const entry = await this.#load(otype, oid);
    entry.data = null;
    entry.dirty = true;
  }

  async #deleteTab(tabId: string, blockIds: readonly string[]): Promise<void> {
    const tab = await this.#load("tab", tabId);
    const blocks = new Set([...blockIds, ...((tab.data as ObjectData<"tab"> | null)?.blockids ?? [])]);
    for (const b of blocks) await this.#delete("block", b);
    await this.#delete("layout", tabId);
    await this.#delete("tab", tabId);
  }

  /** Folds a layout event into its tab's layout row (made when missing, if the tab exists). */
  async #layout(tabId: string, ev: BusEvent): Promise<void> {
    const entry = await this.#load("layout", tabId);
    if (entry.data === null && (await this.#load("tab", tabId)).data === null) return;
    const row = entry.data as ObjectData<"layout"> | null;
    const next = applyLayoutEvent(fromSlices(row?.tree ?? null, row?.slices ?? null), ev);
    this.#create("layout", tabId, { otype: "layout", tree: next.tree, slices: slicesOf(next) });
  }

  /** Applies the object effect of one event. */
  async apply(ev: BusEvent): Promise<void> {
    switch (ev.event) {
      case "workspace_created":
        return this.#create("workspace", ev.workspace_id, {
          otype: "workspace",
          name: ev.name,
          tabids: [],
          activetabid: "",
          meta: {},
        });
      case "workspace_deleted": {
        const ws = await this.#load("workspace", ev.workspace_id);
        for (const t of (ws.data as ObjectData<"workspace"> | null)?.tabids ?? []) await this.#deleteTab(t, []);
        for (const b of ev.block_ids) await this.#delete("block", b);
        return this.#delete("workspace", ev.workspace_id);
      }
      case "workspace_renamed":
        return this.#update("workspace", ev.workspace_id, (w) => {
          w.name = ev.name;
        });
      case "workspace_meta_updated":
        return this.#update("workspace", ev.workspace_id, (w) => {
          w.meta = mergeMeta(w.meta, ev.meta_patch);
        });
      case "tab_created":
        this.#create("tab", ev.tab_id, {
          otype: "tab",
          name: ev.name,
          workspaceid: ev.workspace_id,
          blockids: [],
          meta: {},
        });
        this.#create("layout", ev.tab_id, { otype: "layout", tree: null, slices: {} });
        return this.#update("workspace", ev.workspace_id, (w) => {
          if (!w.tabids.includes(ev.tab_id)) w.tabids.push(ev.tab_id);
        });
      case "tab_deleted":
        await this.#update("workspace", ev.workspace_id, (w) => removeId(w.tabids, ev.tab_id));
        return this.#deleteTab(ev.tab_id, ev.block_ids);
      case "active_tab_changed":
        return this.#update("workspace", ev.workspace_id, (w) => {
          w.activetabid = ev.tab_id ?? "";
        });
      case "tab_reordered":
        return this.#update("workspace", ev.workspace_id, (w) => insertId(w.tabids, ev.new_index, ev.tab_id));
      case "tabs_reordered_bulk":
        return this.#update("workspace", ev.workspace_id, (w) => {
          w.tabids = [...ev.tab_ids];
        });
      case "tab_renamed":
        return this.#update("tab", ev.tab_id, (t) => {
          t.name = ev.name;
        });
      case "tab_meta_updated":
        return this.#update("tab", ev.tab_id, (t) => {
          t.meta = mergeMeta(t.meta, ev.meta_patch);
        });
      case "tab_moved":
        await this.#update("workspace", ev.src_workspace_id, (w) => {
          removeId(w.tabids, ev.tab_id);
          w.activetabid = ev.new_src_active_tab_id ?? "";
        });
        await this.#update("workspace", ev.dst_workspace_id, (w) => {
          insertId(w.tabids, ev.dst_index, ev.tab_id);
          if (ev.new_dst_active_tab_id !== null) w.activetabid = ev.new_dst_active_tab_id;
        });
        return this.#update("tab", ev.tab_id, (t) => {
          t.workspaceid = ev.dst_workspace_id;
        });
      case "block_created":
        this.#create("block", ev.block_id, { otype: "block", parentoref: `tab:${ev.tab_id}`, meta: ev.meta ?? {} });
        return this.#update("tab", ev.tab_id, (t) => {
          if (!t.blockids.includes(ev.block_id)) t.blockids.push(ev.block_id);
        });
      case "block_deleted":
        await this.#update("tab", ev.tab_id, (t) => removeId(t.blockids, ev.block_id));
        return this.#delete("block", ev.block_id);
      case "block_meta_updated":
        return this.#update("block", ev.block_id, (b) => {
          b.meta = mergeMeta(b.meta, ev.meta_patch);
        });
      case "block_moved":
        await this.#update("tab", ev.src_tab_id, (t) => removeId(t.blockids, ev.block_id));
        await this.#update("tab", ev.dst_tab_id, (t) => insertId(t.blockids, ev.dst_index, ev.block_id));
        return this.#update("block", ev.block_id, (b) => {
          b.parentoref = `tab:${ev.dst_tab_id}`;
        });
      case "srv_window_opened": {
        const win = await this.#load("window", ev.window_id);
        const meta = (win.data as ObjectData<"window"> | null)?.meta ?? {};
        this.#create("window", ev.window_id, { otype: "window", workspaceid: ev.workspace_id, meta });
        if (this.clientOid === undefined) return;
        return this.#update("client", this.clientOid, (c) => {
          if (!c.windowids.includes(ev.window_id)) c.windowids.push(ev.window_id);
        });
      }
      case "srv_window_closed":
        await this.#delete("window", ev.window_id);
        if (this.clientOid === undefined) return;
        return this.#update("client", this.clientOid, (c) => removeId(c.windowids, ev.window_id));
      case "srv_window_workspace_changed":
        return this.#update("window", ev.window_id, (w) => {
          w.workspaceid = ev.workspace_id;
        });
      case "window_meta_updated":
        return this.#update("window", ev.window_id, (w) => {
          w.meta = mergeMeta(w.meta, ev.meta_patch);
        });
      default: {
        const tabId = layoutEventTab(ev);
        if (tabId !== undefined) return this.#layout(tabId, ev);
        return;
      }
    }
  }

  /** Inserts a brand-new object (used for records the reducer does not model, such as the client). */
  put<T extends OType>(otype: T, oid: string, data: ObjectData<T>): void {
    this.#create(otype, oid, data);
  }

  /** Writes every change: per object type, one upsert and one delete. */
  async flush(): Promise<void> {
    const byType = new Map<OType, Entry[]>();
    for (const e of this.#entries.values()) {
      if (!e.dirty) continue;
      const list = byType.get(e.otype) ?? [];
      list.push(e);
      byType.set(e.otype, list);
    }
    for (const [otype, entries] of byType) {
      const gone = entries.filter((e) => e.data === null && e.existed).map((e) => e.oid);
      for (let i = 0; i < gone.length; i += 500) {
        const chunk = gone.slice(i, i + 500);
        await this.statements.run(
          this.db,
          `delete:${otype}:${chunk.length}`,
          () => this.db.deleteFrom(table(otype)).where("oid", "in", chunk),
          chunk,
        );
      }
      // For a new row `version` is its final version; for an existing row it is the increment.
      const rows = entries
        .filter((e) => e.data !== null)
        .map((e) => ({
          oid: e.oid,
          version: e.existed ? Math.max(1, e.bumps) : 1 + e.bumps,
          data: JSON.stringify(e.data),
        }));
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        await this.statements.run(
          this.db,
          `upsert:${otype}:${chunk.length}`,
          () =>
            this.db
              .insertInto(table(otype))
              .values(chunk)
              .onConflict((oc) =>
                oc.column("oid").doUpdateSet((eb) => ({
                  data: eb.ref("excluded.data"),
                  version: eb(eb.ref(`${table(otype)}.version`), "+", eb.ref("excluded.version")),
                })),
              ),
          chunk.flatMap((r) => [r.oid, r.version, r.data]),
        );
      }
    }
  }
}
