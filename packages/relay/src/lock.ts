/**
 * Node has no `flock`, so the relay's locks are SQLite's own file locks: a
 * `BEGIN EXCLUSIVE` transaction kept open on a small, otherwise empty
 * database. SQLite takes them with `fcntl` byte-range locks, which the kernel
 * drops when the holder exits for any reason, SIGKILL included, so a crashed
 * holder never leaves a stale lock and nobody has to guess from PIDs or ages.
 *
 * Two properties of `fcntl` locks shape the rules below:
 * - They belong to the process, and closing *any* descriptor of the file in
 *   that process drops them. SQLite knows this and shares one lock state per
 *   file among its own connections (so a second connection in the holder's
 *   process sees the lock as held and closing it does not release it), but a
 *   plain `fs` open/close of the lock file would. Never read or write a lock
 *   file with `fs`: that is why the holder's PID lives in a separate file.
 * - They are not inherited by children, and SQLite opens with `O_CLOEXEC`, so
 *   a holder that spawns processes does not pass its lock on.
 *
 * A `RuntimeLock` that is garbage-collected closes its connection and so
 * releases the lock: a holder must keep a reference for as long as it means
 * to hold it (`hostRelay` keeps it in its `close`).
 */
import { chmodSync, existsSync, truncateSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";

type Db = InstanceType<typeof Database>;

const LOCK_FILE_MODE = 0o600;

export interface AcquireOptions {
  /** A file that gets the holder's PID once the lock is held and is truncated on release. */
  readonly pidFile?: string;
  /** The PID written to `pidFile` (default: this process). */
  readonly pid?: number;
}

/** Another holder has the database locked (`SQLITE_BUSY`, and its extended codes). */
function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

/**
 * Opens the lock database and tries to lock it exclusively without waiting.
 * Returns the open connection holding the lock, or undefined if someone else
 * holds it.
 */
function tryLock(path: string, mustExist: boolean): Db | undefined {
  // timeout 0: SQLite's busy handler must not wait; contention is the answer, not a delay.
  const db = new Database(path, { timeout: 0, fileMustExist: mustExist });
  try {
    // Taking the lock on an empty database makes SQLite stage a first page, which it would
    // journal on disk (a `-journal` file beside the lock, left behind by a SIGKILL). Nothing is
    // ever committed here, so the journal can live in memory. (While someone else holds the
    // lock, this pragma is already refused as busy.)
    db.pragma("journal_mode = MEMORY");
    db.exec("BEGIN EXCLUSIVE");
    return db;
  } catch (err) {
    db.close();
    if (isBusy(err)) return undefined;
    throw err;
  }
}

/** An exclusive, non-blocking, kernel-released lock on one file (see the module comment). */
export class RuntimeLock {
  #db: Db | undefined;

  private constructor(
    db: Db,
    readonly path: string,
    private readonly pidFile: string | undefined,
  ) {
    this.#db = db;
  }

  /**
   * Takes the lock at `path` (creating the file, mode 0600) if nobody holds
   * it; returns undefined at once if somebody does. With `pidFile`, the PID
   * is written there after the lock is taken.
   */
  static tryAcquire(path: string, options: AcquireOptions = {}): RuntimeLock | undefined {
    const db = tryLock(path, false);
    if (db === undefined) return undefined;
    const lock = new RuntimeLock(db, path, options.pidFile);
    try {
      chmodSync(path, LOCK_FILE_MODE);
      if (options.pidFile !== undefined) {
        writeFileSync(options.pidFile, `${options.pid ?? process.pid}\n`, { mode: LOCK_FILE_MODE });
      }
    } catch (err) {
      lock.release();
      throw err;
    }
    return lock;
  }

  /**
   * Whether someone holds the lock at `path`, found by a trial acquire that is
   * released at once. A missing file is not held (and is not created). The
   * trial briefly holds the lock itself, so a holder-to-be that tries at that
   * very instant sees it taken: takers that must not lose to a probe retry
   * for a moment (see `hostRelay`).
   */
  static isHeld(path: string): boolean {
    if (!existsSync(path)) return false;
    let db: Db | undefined;
    try {
      db = tryLock(path, true);
    } catch (err) {
      // Removed between the existence check and the open: nobody holds it.
      if ((err as { code?: unknown }).code === "SQLITE_CANTOPEN") return false;
      throw err;
    }
    if (db === undefined) return true;
    db.exec("ROLLBACK");
    db.close();
    return false;
  }

  get held(): boolean {
    return this.#db !== undefined;
  }

  /**
   * Truncates the PID file, then drops the lock. In that order: once the lock
   * is free a new holder may write its own PID, which must not be wiped.
   * Calling it again does nothing.
   */
  release(): void {
    const db = this.#db;
    if (db === undefined) return;
    this.#db = undefined;
    try {
      if (this.pidFile !== undefined) truncateSync(this.pidFile);
    } catch (err) {
      // A PID file someone removed needs no truncating; anything else is worth reporting, after the lock is dropped.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    } finally {
      db.exec("ROLLBACK");
      db.close();
    }
  }
}
