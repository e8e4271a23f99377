import { type BusEvent, type CommandInput, parseCommand, parseEvent } from "@agentmux/common-ipc";
import {
  type DecideContext,
  decide,
  evolve,
  fromSlices,
  initialState,
  isEmptyLayout,
  type ReducerState,
  stateFromJson,
  stateToJson,
} from "@agentmux/reducer";
import { type Kysely, sql } from "kysely";
import { ObjectBatch, parseObject } from "./batch.js";
import { CompiledStatements } from "./compiled.js";
import { NotFoundError, StoreError } from "./errors.js";
import type { StoredObject } from "./objects.js";
import { type ObjectsDB, type OType, objectTable } from "./schema.js";
import type { SqliteFile } from "./sqlite.js";

/** Event kinds that are never replayed, so never written to the durable log. */
const NOT_LOGGED: ReadonlySet<string> = new Set(["srv_snapshot", "event_list", "error"]);

export const STARTER_WORKSPACE = "Starter workspace";

/** Default number of events kept in the log behind a snapshot. */
export const DEFAULT_RETAIN_EVENTS = 100_000;

export interface ApplyResult {
  /** Events of the batch that were new (the rest were already applied). */
  applied: number;
  /** The store's head version after the batch. */
  head: number;
}

export interface LoggedEvents {
  /** Logged events with version > since, oldest first (at most `limit`). */
  events: BusEvent[];
  /** True when events after `since` were already dropped by the retention rule. */
  truncated: boolean;
  /** The head version at the time of reading. */
  head: number;
}

/** The object tables seen as the reducer's structural state (for bootstrapping and cross-checks). */
export type ObjectModel = Pick<ReducerState, "workspaces" | "tabs" | "blocks" | "windows" | "layouts">;

type Db = Kysely<ObjectsDB>;

/**
 * Objects, the durable event log and state snapshots in `objects.db`.
 * Every write goes through {@link applyEvents}: the effect of a batch of
 * reducer events, written in one transaction together with the log.
 */
export class ObjectStore {
  /** Head version and client id as last committed (this instance is the only writer of objects.db). */
  #cached: { head: number; clientOid: string | undefined } | undefined;
  readonly #statements = new CompiledStatements();

  constructor(readonly file: SqliteFile<ObjectsDB>) {}

  // --- reads -----------------------------------------------------------------

  /** One object, or undefined. A corrupt row throws CorruptObjectError naming it. */
  async get<T extends OType>(otype: T, oid: string): Promise<StoredObject<T> | undefined> {
    const row = await this.file.db
      .selectFrom(objectTable(otype))
      .select(["data", "version"])
      .where("oid", "=", oid)
      .executeTakeFirst();
    return row ? { ...parseObject(otype, oid, row.data), oid, version: Number(row.version) } : undefined;
  }

  async mustGet<T extends OType>(otype: T, oid: string): Promise<StoredObject<T>> {
    const obj = await this.get(otype, oid);
    if (obj === undefined) throw new NotFoundError(`${otype}:${oid}`);
    return obj;
  }

  /** Every object of a type, by oid. Fails loudly (CorruptObjectError) if any row is corrupt. */
  async getAll<T extends OType>(otype: T): Promise<StoredObject<T>[]> {
    const rows = await this.file.db
      .selectFrom(objectTable(otype))
      .select(["oid", "data", "version"])
      .orderBy("oid")
      .execute();
    return rows.map((r) => ({ ...parseObject(otype, r.oid, r.data), oid: r.oid, version: Number(r.version) }));
  }

  /**
   * The objects of a type whose meta sets `key` (to anything but null). SQL narrows the rows with
   * a LIKE over the stored JSON text (portable, and no row is parsed unless it names the key);
   * each candidate is then parsed and checked, so a value that merely contains the text is no match.
   */
  async withMetaKey<T extends Exclude<OType, "layout">>(otype: T, key: string): Promise<StoredObject<T>[]> {
    const needle = `%${JSON.stringify(key).replace(/[\\%_]/g, "\\$&")}:%`;
    const rows = await this.file.db
      .selectFrom(objectTable(otype))
      .select(["oid", "data", "version"])
      .where(sql<boolean>`data LIKE ${needle} ESCAPE '\\'`)
      .orderBy("oid")
      .execute();
    return rows
      .map((r) => ({ ...parseObject(otype, r.oid, r.data), oid: r.oid, version: Number(r.version) }))
      .filter((o) => o.meta[key] !== undefined && o.meta[key] !== null);
  }

  /** Version of the last event applied (0 for a new store). */
  async head(): Promise<number> {
    return this.#readHead(this.file.db);
  }

  /**
   * The head is the newest logged version, or the `head` meta row when the
   * newest events were unlogged ones (errors, snapshots) — whichever is larger.
   * Batches that end with a logged event therefore write no head row.
   */
  async #readHead(db: Db): Promise<number> {
    const logged = await db
      .selectFrom("event_log")
      .select((eb) => eb.fn.max("version").as("max"))
      .executeTakeFirst();
    return Math.max(await this.#metaNumber(db, "head"), Number(logged?.max ?? 0));
  }

  // --- writes ----------------------------------------------------------------

  /**
   * Writes the effect of a batch of reducer events, in version order, in one
   * transaction, and appends the replayable ones to the durable log.
   * Idempotent: events at or below the head version were applied already
   * and are skipped, so applying a batch twice changes nothing.
   */
  async applyEvents(events: readonly BusEvent[]): Promise<ApplyResult> {
    return this.#write((trx) => this.#apply(trx, events));
  }

  /** A write transaction; the cached head is dropped if it fails, and re-read by the next one. */
  async #write<T>(fn: (trx: Db) => Promise<T>): Promise<T> {
    try {
      return await this.file.transaction(fn);
    } catch (err) {
      this.#cached = undefined;
      throw err;
    }
  }

  async #apply(trx: Db, events: readonly BusEvent[], extra?: (batch: ObjectBatch) => void): Promise<ApplyResult> {
    this.#cached ??= {
      head: await this.#readHead(trx),
      clientOid: await this.#meta(trx, "client_oid"),
    };
    const cached = this.#cached;
    const head = cached.head;
    const fresh = events.filter((e) => e.version > head);
    for (let i = 1; i < fresh.length; i++) {
      if ((fresh[i] as BusEvent).version <= (fresh[i - 1] as BusEvent).version) {
        throw new StoreError("invalid_argument", "applyEvents: event versions must rise within a batch");
      }
    }
    if (fresh.length === 0 && extra === undefined) return { applied: 0, head };
    const batch = new ObjectBatch(trx, cached.clientOid, this.#statements);
    extra?.(batch);
    await batch.preload(fresh);
    for (const ev of fresh) await batch.apply(ev);
    await batch.flush();
    const logged = fresh
      .filter((e) => !NOT_LOGGED.has(e.event))
      .map((e) => ({ version: e.version, kind: e.event, data: JSON.stringify(e), req_id: e.req_id ?? null }));
    for (let i = 0; i < logged.length; i += 500) {
      const chunk = logged.slice(i, i + 500);
      await this.#statements.run(
        trx,
        `log:${chunk.length}`,
        () => trx.insertInto("event_log").values(chunk),
        chunk.flatMap((r) => [r.version, r.kind, r.data, r.req_id]),
      );
    }
    const last = fresh[fresh.length - 1];
    const newHead = last ? last.version : head;
    if (last && NOT_LOGGED.has(last.event)) await this.#setMeta(trx, "head", String(newHead));
    cached.head = newHead;
    return { applied: fresh.length, head: newHead };
  }

  // --- durable log -------------------------------------------------------------

  /**
   * Logged events with version > `since`, in order, at most `limit` of them.
   * `truncated` says that events after `since` were dropped by retention: the
   * caller must re-snapshot rather than trust the gap.
   */
  async eventsSince(since: number, limit = 10_000): Promise<LoggedEvents> {
    const db = this.file.db;
    const [rows, floor, head] = [
      await db
        .selectFrom("event_log")
        .select(["version", "data"])
        .where("version", ">", since)
        .orderBy("version")
        .limit(limit)
        .execute(),
      await this.#metaNumber(db, "log_floor"),
      await this.#readHead(db),
    ];
    const events = rows.map((r) => {
      const parsed = parseEvent(JSON.parse(r.data));
      if (!parsed.ok)
        throw new StoreError("corrupt_object", `event_log v${r.version} is corrupt: ${parsed.error.message}`);
      return parsed.value as BusEvent;
    });
    return { events, truncated: since < floor, head };
  }

  /**
   * The logged events a command with this `req_id` caused, in order (empty if
   * it caused none, was refused, or never ran). Lets crash recovery tell
   * whether a command caught in flight was applied.
   */
  async eventsByReqId(reqId: string): Promise<BusEvent[]> {
    const rows = await this.file.db
      .selectFrom("event_log")
      .select(["version", "data"])
      .where("req_id", "=", reqId)
      .orderBy("version")
      .execute();
    return rows.map((r) => this.#parseLogged(r.version, r.data));
  }

  #parseLogged(version: number, data: string): BusEvent {
    const parsed = parseEvent(JSON.parse(data));
    if (!parsed.ok) throw new StoreError("corrupt_object", `event_log v${version} is corrupt: ${parsed.error.message}`);
    return parsed.value as BusEvent;
  }

  // --- snapshots ---------------------------------------------------------------

  /**
   * Saves `state` as the snapshot boot starts from, and applies the retention
   * rule: events with version ≤ `state.version - retainEvents` are deleted
   * from the log (they stay reflected in the snapshot and the object tables).
   * Only the newest snapshot is kept.
   */
  async writeSnapshot(
    state: Readonly<ReducerState>,
    options: { retainEvents?: number; now?: string } = {},
  ): Promise<void> {
    const retain = options.retainEvents ?? DEFAULT_RETAIN_EVENTS;
    await this.#write(async (trx) => {
      const head = await this.#readHead(trx);
      if (state.version > head) {
        throw new StoreError("invalid_argument", `snapshot at v${state.version} is ahead of the store (v${head})`);
      }
      await trx
        .insertInto("state_snapshot")
        .values({ version: state.version, data: JSON.stringify(stateToJson(state)), created_at: options.now ?? "" })
        .onConflict((oc) => oc.column("version").doNothing())
        .execute();
      await trx.deleteFrom("state_snapshot").where("version", "<", state.version).execute();
      const floor = state.version - retain;
      if (floor > (await this.#metaNumber(trx, "log_floor"))) {
        await trx.deleteFrom("event_log").where("version", "<=", floor).execute();
        await this.#setMeta(trx, "log_floor", String(floor));
        // The newest logged event may be gone now: keep the head on record.
        await this.#setMeta(trx, "head", String(head));
      }
    });
  }

  /**
   * Rebuilds the reducer state: the newest snapshot, then every logged event
   * after it. Time grows with the events since the snapshot, not with history.
   */
  async loadState(): Promise<ReducerState> {
    const db = this.file.db;
    const snap = await db
      .selectFrom("state_snapshot")
      .select(["version", "data"])
      .orderBy("version", "desc")
      .limit(1)
      .executeTakeFirst();
    let state = initialState();
    if (snap) {
      const r = stateFromJson(JSON.parse(snap.data));
      if (!r.ok) throw new StoreError("corrupt_snapshot", `snapshot v${snap.version} is corrupt: ${r.error}`);
      state = r.state;
    } else if ((await this.#metaNumber(db, "log_floor")) > 0) {
      throw new StoreError("corrupt_snapshot", "the log was compacted but no snapshot exists");
    }
    for (;;) {
      const page = await this.eventsSince(state.version, 50_000);
      for (const ev of page.events) evolve(state, ev);
      if (page.events.length < 50_000) {
        // Unlogged events (errors, snapshots) still consumed versions.
        state.version = Math.max(state.version, page.head);
        return state;
      }
    }
  }

  /** The workspace/tab/block/window structure as the object tables hold it. */
  async objectModel(): Promise<ObjectModel> {
    const model: ObjectModel = {
      workspaces: new Map(),
      tabs: new Map(),
      blocks: new Map(),
      windows: new Map(),
      layouts: new Map(),
    };
    for (const ws of await this.getAll("workspace")) {
      model.workspaces.set(ws.oid, {
        name: ws.name,
        tabIds: [...ws.tabids],
        activeTabId: ws.activetabid === "" ? null : ws.activetabid,
      });
    }
    for (const t of await this.getAll("tab")) {
      model.tabs.set(t.oid, { workspaceId: t.workspaceid, name: t.name, blockIds: [...t.blockids] });
    }
    for (const b of await this.getAll("block")) model.blocks.set(b.oid, b.parentoref.slice("tab:".length));
    for (const w of await this.getAll("window")) model.windows.set(w.oid, w.workspaceid);
    for (const l of await this.getAll("layout")) {
      const layout = fromSlices(l.tree, l.slices);
      if (!isEmptyLayout(layout)) model.layouts.set(l.oid, layout);
    }
    return model;
  }

  // --- initial data ------------------------------------------------------------

  /**
   * On the first launch only: the client record, one workspace "Starter
   * workspace" and its first tab, made by the reducer and written like any
   * other events. Returns those events (none on later launches, even if the
   * user has since deleted every workspace).
   */
  async ensureInitialData(ctx: Pick<DecideContext, "newId" | "now">): Promise<BusEvent[]> {
    if ((await this.#meta(this.file.db, "initial_data")) !== undefined) return [];
    const state = await this.loadState();
    const dctx: DecideContext = { ...ctx, registeredPid: null };
    const events: BusEvent[] = [];
    const run = (input: CommandInput) => {
      const parsed = parseCommand(input);
      if (!parsed.ok) throw parsed.error;
      for (const ev of decide(state, parsed.value, dctx)) {
        evolve(state, ev);
        events.push(ev);
      }
      return events[events.length - 1];
    };
    const ws = run({ cmd: "create_workspace", name: STARTER_WORKSPACE });
    if (ws?.event !== "workspace_created") throw new StoreError("invalid_argument", "initial data: no workspace");
    run({ cmd: "create_tab", workspace_id: ws.workspace_id, name: "" });
    const clientOid = ctx.newId();
    await this.#write(async (trx) => {
      await this.#setMeta(trx, "client_oid", clientOid);
      this.#cached = undefined;
      await this.#apply(trx, events, (batch) =>
        batch.put("client", clientOid, { otype: "client", windowids: [], meta: {} }),
      );
      await this.#setMeta(trx, "initial_data", ctx.now);
    });
    return events;
  }

  // --- store_meta ----------------------------------------------------------------

  async #meta(db: Db, key: string): Promise<string | undefined> {
    const row = await db.selectFrom("store_meta").select("value").where("key", "=", key).executeTakeFirst();
    return row?.value;
  }

  async #metaNumber(db: Db, key: string): Promise<number> {
    return Number((await this.#meta(db, key)) ?? 0);
  }

  async #setMeta(db: Db, key: string, value: string): Promise<void> {
    await this.#statements.run(
      db,
      "set-meta",
      () =>
        db
          .insertInto("store_meta")
          .values({ key, value })
          .onConflict((oc) => oc.column("key").doUpdateSet((eb) => ({ value: eb.ref("excluded.value") }))),
      [key, value],
    );
  }
}
