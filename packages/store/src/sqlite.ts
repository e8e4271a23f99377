import Database from "better-sqlite3";
import {
  Kysely,
  type QueryExecutorProvider,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteStatement,
  sql,
} from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";
import { MigrationError, oneLineReason, SchemaTooNewError, StoreError, translateError } from "./errors.js";

/** better-sqlite3 13's native addon crashes on older Node versions instead of failing to load. */
function assertRuntime(): void {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12)) {
    throw new StoreError(
      "unsupported_runtime",
      `@agentmux/store needs Node >= 22.12 (for better-sqlite3 13); this is Node ${process.versions.node}`,
    );
  }
}

export type Synchronous = "normal" | "full";

export interface OpenOptions {
  /** `synchronous` pragma: NORMAL (default) survives a process crash; FULL also survives power loss. */
  synchronous?: Synchronous;
  /**
   * WAL pages after which a commit also checkpoints (SQLite's default, 1000).
   * 0 turns that off: the owner then calls {@link SqliteFile.checkpoint} when
   * it suits it (e.g. when idle), keeping checkpoints off the commit path.
   */
  walAutoCheckpoint?: number;
}

/**
 * The driver as kysely sees it, with prepared statements cached by SQL text
 * (kysely prepares every query anew, which costs more than running it).
 * Statements are only ever used one at a time, as kysely does.
 */
export class CachingDatabase implements SqliteDatabase {
  readonly #cache = new Map<string, SqliteStatement>();

  constructor(
    private readonly driver: Database.Database,
    private readonly capacity = 512,
  ) {}

  prepare(text: string): SqliteStatement {
    let stmt = this.#cache.get(text);
    if (stmt !== undefined) {
      // Refresh its place in the LRU order.
      this.#cache.delete(text);
    } else {
      stmt = this.driver.prepare(text) as unknown as SqliteStatement;
      if (this.#cache.size >= this.capacity) {
        const oldest = this.#cache.keys().next().value as string;
        this.#cache.delete(oldest);
      }
    }
    this.#cache.set(text, stmt);
    return stmt;
  }

  close(): void {
    this.#cache.clear();
    this.driver.close();
  }
}

/**
 * One SQLite file behind kysely, with its migrations. Opening checks the
 * schema version **before** anything is written (not even the WAL switch), so
 * a file from a newer build is refused with its bytes untouched.
 */
export class SqliteFile<DB> {
  readonly db: Kysely<DB>;
  readonly #provider: MigrationProvider;
  readonly #names: string[];
  #pending: number;

  private constructor(
    readonly path: string,
    db: Kysely<DB>,
    migrations: Record<string, Migration>,
    pending: number,
  ) {
    this.db = db;
    this.#names = Object.keys(migrations).sort();
    this.#provider = { getMigrations: async () => migrations };
    this.#pending = pending;
  }

  static async open<DB>(
    path: string,
    migrations: Record<string, Migration>,
    options: OpenOptions = {},
  ): Promise<SqliteFile<DB>> {
    assertRuntime();
    const driver = new Database(path, { timeout: 5000 });
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new CachingDatabase(driver) }) });
    try {
      const names = Object.keys(migrations).sort();
      const applied = await readApplied(db);
      const fileVersion = Number(
        (await sql<{ user_version: number }>`PRAGMA user_version`.execute(db)).rows[0]?.user_version ?? 0,
      );
      const unknown = applied.filter((n) => !names.includes(n));
      if (fileVersion > names.length || unknown.length > 0) {
        throw new SchemaTooNewError(path, Math.max(fileVersion, applied.length), names.length);
      }
      await configure(db, options.synchronous ?? "normal", options.walAutoCheckpoint ?? 1000);
      return new SqliteFile<DB>(path, db, migrations, names.length - applied.length);
    } catch (err) {
      await db.destroy();
      throw err;
    }
  }

  /** How many migrations this build would apply to the file. */
  get pendingMigrations(): number {
    return this.#pending;
  }

  /**
   * Applies pending migrations one at a time, each in its own transaction
   * that takes the write lock before reading what is applied, so processes
   * opening the same file at once never both run a migration. On failure
   * the earlier ones stay applied and a {@link MigrationError} with a
   * one-line reason is thrown.
   */
  async migrate(): Promise<void> {
    for (;;) {
      const step = await this.transaction(async (conn) => {
        const migrator = new Migrator({ db: conn, provider: this.#provider, disableTransactions: true });
        const { error, results = [] } = await migrator.migrateUp();
        const failed = results.find((r) => r.status === "Error");
        if (error !== undefined || failed !== undefined) {
          throw new MigrationError(failed?.migrationName ?? "?", oneLineReason(error ?? "failed"), { cause: error });
        }
        const applied = (await readApplied(conn)).length;
        await sql.raw(`PRAGMA user_version = ${applied}`).execute(conn);
        return { ran: results.length, applied };
      });
      this.#pending = this.#names.length - step.applied;
      if (step.ran === 0 || this.#pending === 0) return;
    }
  }

  /**
   * Caps the file at `bytes` (rounded down to whole pages), or lifts the cap
   * with null. Writes that would grow past it fail with DiskFullError.
   */
  async setQuota(bytes: number | null): Promise<void> {
    const pageSize = Number((await sql<{ page_size: number }>`PRAGMA page_size`.execute(this.db)).rows[0]?.page_size);
    const pages = bytes === null ? 4_294_967_294 : Math.max(1, Math.floor(bytes / pageSize));
    await sql.raw(`PRAGMA max_page_count = ${pages}`).execute(this.db);
  }

  /**
   * Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up
   * front, so concurrent writers (other processes included) serialise whole
   * transactions instead of failing half-way. Any error rolls everything
   * back; "no space" errors come out as DiskFullError.
   */
  async transaction<T>(fn: (db: Kysely<DB>) => Promise<T>): Promise<T> {
    return this.db.connection().execute(async (conn) => {
      await sql`BEGIN IMMEDIATE`.execute(conn);
      try {
        const result = await fn(conn);
        await sql`COMMIT`.execute(conn);
        return result;
      } catch (err) {
        // SQLite has already rolled back after some errors (SQLITE_FULL among them).
        await sql`ROLLBACK`.execute(conn).catch(() => {});
        translateError(err);
      }
    });
  }

  /**
   * Copies what the WAL holds into the database file without blocking
   * writers or readers (a PASSIVE checkpoint). Returns the WAL's size in pages
   * and how many of them are now in the database file.
   */
  async checkpoint(): Promise<{ walPages: number; checkpointed: number }> {
    const row = (await sql<{ log: number; checkpointed: number }>`PRAGMA wal_checkpoint(PASSIVE)`.execute(this.db))
      .rows[0];
    return { walPages: Number(row?.log ?? 0), checkpointed: Number(row?.checkpointed ?? 0) };
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

async function readApplied(db: QueryExecutorProvider): Promise<string[]> {
  const table = await sql<{
    name: string;
  }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'`.execute(db);
  if (table.rows.length === 0) return [];
  const rows = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db);
  return rows.rows.map((r) => r.name);
}

async function configure(db: QueryExecutorProvider, synchronous: Synchronous, autoCheckpoint: number): Promise<void> {
  if (!Number.isInteger(autoCheckpoint) || autoCheckpoint < 0) {
    throw new StoreError("invalid_argument", `walAutoCheckpoint must be a whole number >= 0, got ${autoCheckpoint}`);
  }
  for (const pragma of [
    `PRAGMA wal_autocheckpoint = ${autoCheckpoint}`,
    "PRAGMA journal_mode = WAL",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA foreign_keys = ON",
    `PRAGMA synchronous = ${synchronous === "full" ? "FULL" : "NORMAL"}`,
  ]) {
    await sql.raw(pragma).execute(db);
  }
}
