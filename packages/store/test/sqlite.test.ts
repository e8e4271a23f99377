import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@agentmux/testkit";
import Database from "better-sqlite3";
import type { Kysely } from "kysely";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { MigrationError, openStore, SchemaTooNewError, SqliteFile } from "../src/index.js";

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

describe("opening and migrating", () => {
  it("a fresh data dir reports pending migrations, migrates, stamps user_version; reopening is a no-op", async () => {
    const dir = tempDir();
    const store = await openStore({ dataDir: dir });
    expect(store.pendingMigrations).toBe(6);
    await store.migrate();
    expect(store.pendingMigrations).toBe(0);
    await store.close();

    const raw = new Database(join(dir, "db", "objects.db"), { readonly: true });
    const tables = raw
      .prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'kysely%' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual([
      "db_block",
      "db_client",
      "db_layout",
      "db_tab",
      "db_window",
      "db_workspace",
      "event_log",
      "mail",
      "state_snapshot",
      "store_meta",
    ]);
    const cols = raw.prepare("SELECT name, type, pk FROM pragma_table_info('db_block')").all();
    expect(cols).toEqual([
      { name: "oid", type: "TEXT", pk: 1 },
      { name: "version", type: "INTEGER", pk: 0 },
      { name: "data", type: "TEXT", pk: 0 },
    ]);
    expect(raw.pragma("user_version", { simple: true })).toBe(5);
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    raw.close();

    const again = await openStore({ dataDir: dir });
    expect(again.pendingMigrations).toBe(0);
    await again.migrate();
    await again.close();
  });

  it("sets the pragmas on every open: WAL, busy_timeout 5000, foreign keys, synchronous NORMAL or FULL", async () => {
    const dir = tempDir();
    for (const [synchronous, expected] of [
      ["normal", 1],
      ["full", 2],
    ] as const) {
      const store = await openStore({ dataDir: dir, synchronous });
      const db = store.objects.file.db;
      const one = async (p: string) => Object.values((await sql.raw(`PRAGMA ${p}`).execute(db)).rows[0] as object)[0];
      expect(await one("journal_mode")).toBe("wal");
      expect(await one("busy_timeout")).toBe(5000);
      expect(await one("foreign_keys")).toBe(1);
      expect(await one("synchronous")).toBe(expected);
      await store.close();
    }
  });

  it("walAutoCheckpoint 0 leaves checkpoints to the owner, who can run them at will", async () => {
    const dir = tempDir();
    const store = await openStore({ dataDir: dir, walAutoCheckpoint: 0 });
    await store.migrate();
    const db = store.objects.file.db;
    const auto = Object.values((await sql.raw("PRAGMA wal_autocheckpoint").execute(db)).rows[0] as object)[0];
    expect(auto).toBe(0);
    for (let i = 1; i <= 300; i++) await store.objects.applyEvents([{ event: "pong", nonce: i, version: i }]);
    const before = await store.objects.file.checkpoint();
    expect(before.walPages).toBeGreaterThan(0);
    expect(before.checkpointed).toBe(before.walPages);
    await store.checkpoint();
    await store.close();
    await expect(openStore({ dataDir: dir, walAutoCheckpoint: -1 })).rejects.toThrow(/walAutoCheckpoint/);
  });

  it("refuses a file from a newer build before writing anything to it", async () => {
    const dir = tempDir();
    const store = await openStore({ dataDir: dir });
    await store.migrate();
    await store.close();
    const path = join(dir, "db", "objects.db");
    // Leave rollback-journal mode so that even the WAL switch would change the file.
    const raw = new Database(path);
    raw.pragma("journal_mode = DELETE");
    raw.pragma("user_version = 99");
    raw.close();
    const before = sha(path);

    const err = await openStore({ dataDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaTooNewError);
    expect((err as SchemaTooNewError).code).toBe("schema_too_new");
    expect((err as SchemaTooNewError).fileVersion).toBe(99);
    expect(sha(path)).toBe(before);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it("refuses a file that has a migration this build does not know", async () => {
    const dir = tempDir();
    const path = join(dir, "x.db");
    const v2 = await SqliteFile.open(path, { a: { up: async () => {} }, b: { up: async () => {} } });
    await v2.migrate();
    await v2.close();
    await expect(SqliteFile.open(path, { a: { up: async () => {} } })).rejects.toBeInstanceOf(SchemaTooNewError);
  });

  it("a failing migration raises a one-line MigrationError and leaves the earlier ones applied", async () => {
    const path = join(tempDir(), "m.db");
    const migrations = {
      "0001_ok": {
        async up(db: Kysely<unknown>) {
          await db.schema.createTable("first").addColumn("id", "integer").execute();
        },
      },
      "0002_bad": {
        async up(db: Kysely<unknown>) {
          await db.schema.createTable("second").addColumn("id", "integer").execute();
          throw new Error("boom\nsecond line");
        },
      },
    };
    const file = await SqliteFile.open(path, migrations);
    expect(file.pendingMigrations).toBe(2);
    const err = await file.migrate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).migration).toBe("0002_bad");
    expect((err as MigrationError).reason).toBe("boom | second line");
    expect(file.pendingMigrations).toBe(1);
    await file.close();
    const raw = new Database(path, { readonly: true });
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").pluck().all();
    expect(tables).toContain("first");
    expect(tables).not.toContain("second"); // rolled back with its migration
    expect(raw.prepare("SELECT name FROM kysely_migration").pluck().all()).toEqual(["0001_ok"]);
    expect(raw.pragma("user_version", { simple: true })).toBe(1);
    raw.close();
  });
});

describe("several processes opening one fresh data dir at once", () => {
  it("all succeed and the migrations run exactly once", async () => {
    const dir = tempDir();
    const child = join(import.meta.dirname, "fixtures", "append-child.mjs");
    const runs = Array.from(
      { length: 4 },
      (_, i) =>
        new Promise<number | null>((resolve) => {
          const p = spawn(process.execPath, [child, dir, String.fromCharCode(65 + i), "0"], { stdio: "ignore" });
          p.on("exit", resolve);
        }),
    );
    expect(await Promise.all(runs)).toEqual([0, 0, 0, 0]);
    const raw = new Database(join(dir, "db", "objects.db"), { readonly: true });
    expect(raw.prepare("SELECT count(*) FROM kysely_migration").pluck().get()).toBe(5);
    raw.close();
  }, 30_000);
});
