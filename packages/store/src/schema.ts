import { type Generated, type Kysely, sql } from "kysely";
import type { Migration } from "kysely/migration";

/** The object types the store keeps, each in its own `db_<otype>` table. */
export const OTYPES = ["client", "window", "workspace", "tab", "block", "layout"] as const;
export type OType = (typeof OTYPES)[number];

/**
 * The table of an object type. Every object table has the same row shape,
 * so one of them stands for all in kysely's types.
 */
export function objectTable(otype: OType): "db_block" {
  return `db_${otype}` as "db_block";
}

export interface ObjectRow {
  oid: string;
  version: Generated<number>;
  /** The object as JSON. */
  data: string;
}

export interface EventLogRow {
  version: number;
  kind: string;
  data: string;
  /** The `req_id` of the command that caused the event, if any. */
  req_id: string | null;
}

export interface SnapshotRow {
  version: number;
  data: string;
  created_at: string;
}

export interface MetaRow {
  key: string;
  value: string;
}

/** A message accepted for one target (see `mail-store.ts`). */
export interface MailRow {
  message_id: string;
  /** Acceptance order: breaks ties between records created in the same millisecond. */
  seq: number;
  bundle_name: string;
  sender_session: string;
  target_session: string;
  /** JSON array of session ids. */
  cc_sessions: string;
  body: string;
  /** RFC 3339 in UTC with milliseconds (`toISOString`), so text order is time order. */
  created_at: string;
  state: string;
  /** JSON object, or null before the delivery ended. */
  outcome: string | null;
  updated_at: string;
}

export interface ObjectsDB {
  db_client: ObjectRow;
  db_window: ObjectRow;
  db_workspace: ObjectRow;
  db_tab: ObjectRow;
  db_block: ObjectRow;
  /** A tab's layout, keyed by the tab's id (migration 0005). */
  db_layout: ObjectRow;
  event_log: EventLogRow;
  state_snapshot: SnapshotRow;
  store_meta: MetaRow;
  mail: MailRow;
}

export interface FileRow {
  zoneid: string;
  name: string;
  size: number;
  createdts: number;
  modts: number;
  opts: string;
  meta: string;
}

export interface FilePartRow {
  zoneid: string;
  name: string;
  partidx: number;
  data: Uint8Array;
}

export interface FilesDB {
  db_file: FileRow;
  db_file_data: FilePartRow;
}

// Migrations receive an untyped Kysely: they describe the schema at their point in history.
type AnyDB = Kysely<unknown>;

/** objects.db migrations, applied in name order. Never edit one that has shipped: add a new one. */
export const objectMigrations: Record<string, Migration> = {
  "0001_objects": {
    async up(db: AnyDB) {
      // The object types of that time (later ones come with their own migration).
      for (const otype of ["client", "window", "workspace", "tab", "block"]) {
        await db.schema
          .createTable(`db_${otype}`)
          .addColumn("oid", "text", (c) => c.primaryKey())
          .addColumn("version", "integer", (c) => c.notNull().defaultTo(1))
          .addColumn("data", "text", (c) => c.notNull())
          // SQLite storage detail: keep rows in the key's b-tree instead of a rowid table plus a key index.
          .modifyEnd(sql`without rowid`)
          .execute();
      }
      await db.schema
        .createTable("store_meta")
        .addColumn("key", "text", (c) => c.primaryKey())
        .addColumn("value", "text", (c) => c.notNull())
        .execute();
    },
  },
  "0002_event_log": {
    async up(db: AnyDB) {
      await db.schema
        .createTable("event_log")
        .addColumn("version", "bigint", (c) => c.primaryKey())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("data", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("state_snapshot")
        .addColumn("version", "bigint", (c) => c.primaryKey())
        .addColumn("data", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();
    },
  },
};

objectMigrations["0003_event_req_id"] = {
  async up(db: AnyDB) {
    await db.schema.alterTable("event_log").addColumn("req_id", "text").execute();
    await db.schema
      .createIndex("event_log_req_id")
      .on("event_log")
      .column("req_id")
      .where(sql.ref("req_id"), "is not", null)
      .execute();
  },
};

objectMigrations["0004_mail"] = {
  async up(db: AnyDB) {
    await db.schema
      .createTable("mail")
      .addColumn("message_id", "text", (c) => c.primaryKey())
      .addColumn("seq", "bigint", (c) => c.notNull())
      .addColumn("bundle_name", "text", (c) => c.notNull())
      .addColumn("sender_session", "text", (c) => c.notNull())
      .addColumn("target_session", "text", (c) => c.notNull())
      .addColumn("cc_sessions", "text", (c) => c.notNull())
      .addColumn("body", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("state", "text", (c) =>
        c.notNull().check(sql`state in ('pending', 'delivering', 'delivered', 'read', 'failed')`),
      )
      .addColumn("outcome", "text")
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    // Only unsettled records are indexed: the index stays as small as the backlog, however many
    // settled records the table keeps. Queries repeat this condition word for word (MAIL_UNSETTLED
    // in mail-store.ts): SQLite uses a partial index only for a query that implies its condition.
    await db.schema
      .createIndex("mail_pending_by_target")
      .on("mail")
      .columns(["target_session", "created_at", "seq"])
      .where(sql<boolean>`state in ('pending', 'delivering')`)
      .execute();
  },
};

objectMigrations["0005_layout"] = {
  async up(db: AnyDB) {
    await db.schema
      .createTable("db_layout")
      .addColumn("oid", "text", (c) => c.primaryKey())
      .addColumn("version", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("data", "text", (c) => c.notNull())
      .modifyEnd(sql`without rowid`)
      .execute();
    // Every tab has a layout row: tabs made before layouts get an empty one.
    await sql`insert into db_layout (oid, data)
      select oid, '{"otype":"layout","tree":null,"slices":{}}' from db_tab`.execute(db);
  },
};

/** filestore.db migrations. */
export const fileMigrations: Record<string, Migration> = {
  "0001_files": {
    async up(db: AnyDB) {
      await db.schema
        .createTable("db_file")
        .addColumn("zoneid", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("size", "bigint", (c) => c.notNull())
        .addColumn("createdts", "bigint", (c) => c.notNull())
        .addColumn("modts", "bigint", (c) => c.notNull())
        .addColumn("opts", "text", (c) => c.notNull())
        .addColumn("meta", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("db_file_pk", ["zoneid", "name"])
        .execute();
      await db.schema
        .createTable("db_file_data")
        .addColumn("zoneid", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("partidx", "integer", (c) => c.notNull())
        .addColumn("data", "blob", (c) => c.notNull())
        .addPrimaryKeyConstraint("db_file_data_pk", ["zoneid", "name", "partidx"])
        .addForeignKeyConstraint("db_file_data_file", ["zoneid", "name"], "db_file", ["zoneid", "name"], (fk) =>
          fk.onDelete("cascade"),
        )
        .execute();
    },
  },
};
