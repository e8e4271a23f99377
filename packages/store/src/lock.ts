import { readFileSync, writeFileSync } from "node:fs";
import { sql } from "kysely";
import { StoreError } from "./errors.js";
import { SqliteFile } from "./sqlite.js";

/** The lock is held by someone else; `holder` is what they wrote when they took it. */
export class LockHeldError extends StoreError {
  override readonly name = "LockHeldError";
  constructor(
    readonly path: string,
    readonly holder: string,
  ) {
    super("lock_held", `${path} is locked by ${holder}`);
  }
}

/**
 * An exclusive lock on a small SQLite file, held as an open `BEGIN
 * EXCLUSIVE` transaction. The operating system drops it when the holder
 * exits for any reason, SIGKILL included, so a crashed holder never leaves a
 * stale lock. `holder` (e.g. "pid 1234") is written beside it for the error
 * a second taker gets.
 */
export class FileLock {
  private constructor(
    private readonly file: SqliteFile<unknown>,
    private readonly release_: () => void,
    private readonly held: Promise<void>,
  ) {}

  static async acquire(path: string, holder: string): Promise<FileLock> {
    const file = await SqliteFile.open<unknown>(path, {});
    await sql`PRAGMA busy_timeout = 0`.execute(file.db);
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let acquired!: (err?: unknown) => void;
    const ready = new Promise<void>((resolve, reject) => {
      acquired = (err) => (err === undefined ? resolve() : reject(err));
    });
    const held = file.db.connection().execute(async (conn) => {
      try {
        await sql`BEGIN EXCLUSIVE`.execute(conn);
      } catch (err) {
        acquired(err);
        return;
      }
      acquired();
      await released;
      await sql`ROLLBACK`.execute(conn);
    });
    try {
      await ready;
    } catch (err) {
      await held;
      await file.close();
      if ((err as { code?: string }).code?.startsWith("SQLITE_BUSY")) {
        let who = "another process";
        try {
          who = readFileSync(`${path}.holder`, "utf8").trim() || who;
        } catch {
          // no holder note: keep the generic name
        }
        throw new LockHeldError(path, who);
      }
      throw err;
    }
    writeFileSync(`${path}.holder`, `${holder}\n`);
    return new FileLock(file, release, held);
  }

  async release(): Promise<void> {
    this.release_();
    await this.held;
    await this.file.close();
  }
}
