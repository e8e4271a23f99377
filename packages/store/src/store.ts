import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { FileStore } from "./file-store.js";
import { MailStore } from "./mail-store.js";
import { ObjectStore } from "./object-store.js";
import { type FilesDB, fileMigrations, type ObjectsDB, objectMigrations } from "./schema.js";
import { type OpenOptions, SqliteFile } from "./sqlite.js";

export interface StoreOptions extends OpenOptions {
  /** The data dir; the databases live in `<dataDir>/db/`. */
  dataDir: string;
  /** Clock for file timestamps (ms since the epoch). */
  clock?: () => number;
}

export interface Store {
  objects: ObjectStore;
  files: FileStore;
  /** Durable mail records (in `objects.db`), group-committed. */
  mail: MailStore;
  /** Migrations this build would apply, over both files (0 when up to date). */
  readonly pendingMigrations: number;
  /** Applies pending migrations (MigrationError on failure; earlier ones stay applied). */
  migrate(): Promise<void>;
  /**
   * Checkpoints the WAL of `objects.db`, of `filestore.db`, or of both (the
   * default), for owners that opened with `walAutoCheckpoint: 0` and decide
   * themselves when a checkpoint suits them.
   */
  checkpoint(which?: "objects" | "files" | "all"): Promise<void>;
  /** Waits for queued mail writes to commit, then closes both files. */
  close(): Promise<void>;
}

/**
 * Opens `db/objects.db` and `db/filestore.db` under the data dir. A file
 * written by a newer build is refused (SchemaTooNewError) before anything is
 * written to either. Call `migrate()` before using the store.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const dir = join(options.dataDir, "db");
  mkdirSync(dir, { recursive: true });
  const objectsFile = await SqliteFile.open<ObjectsDB>(join(dir, "objects.db"), objectMigrations, options);
  let filesFile: SqliteFile<FilesDB>;
  try {
    filesFile = await SqliteFile.open<FilesDB>(join(dir, "filestore.db"), fileMigrations, options);
  } catch (err) {
    await objectsFile.close();
    throw err;
  }
  const mail = new MailStore(objectsFile, options.clock);
  return {
    objects: new ObjectStore(objectsFile),
    mail,
    files: new FileStore(filesFile, options.clock),
    get pendingMigrations() {
      return objectsFile.pendingMigrations + filesFile.pendingMigrations;
    },
    async migrate() {
      await objectsFile.migrate();
      await filesFile.migrate();
    },
    async checkpoint(which = "all") {
      if (which !== "files") await objectsFile.checkpoint();
      if (which !== "objects") await filesFile.checkpoint();
    },
    async close() {
      await mail.idle();
      await objectsFile.close();
      await filesFile.close();
    },
  };
}
