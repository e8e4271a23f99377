/** Stable codes for every error the store raises. */
export type StoreErrorCode =
  | "schema_too_new"
  | "migration_failed"
  | "corrupt_object"
  | "corrupt_snapshot"
  | "corrupt_mail"
  | "not_found"
  | "already_exists"
  | "disk_full"
  | "invalid_argument"
  | "unsupported_runtime"
  | "lock_held";

export class StoreError extends Error {
  override readonly name: string = "StoreError";
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The database file was written by a newer build. Raised before anything is written to it. */
export class SchemaTooNewError extends StoreError {
  override readonly name = "SchemaTooNewError";
  constructor(
    readonly file: string,
    readonly fileVersion: number,
    readonly buildVersion: number,
  ) {
    super("schema_too_new", `${file} has schema version ${fileVersion}, newer than this build's ${buildVersion}`);
  }
}

/** A migration failed. Earlier migrations stay applied; `reason` is one line. */
export class MigrationError extends StoreError {
  override readonly name = "MigrationError";
  constructor(
    readonly migration: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super("migration_failed", `migration ${migration} failed: ${reason}`, options);
  }
}

/** A stored object that does not parse. Only reads of that object fail. */
export class CorruptObjectError extends StoreError {
  override readonly name = "CorruptObjectError";
  constructor(
    readonly oref: string,
    reason: string,
  ) {
    super("corrupt_object", `object ${oref} is corrupt: ${reason}`);
  }
}

/** A stored mail record that does not parse (its JSON columns, say). Only reads of that record fail. */
export class CorruptMailError extends StoreError {
  override readonly name = "CorruptMailError";
  constructor(
    readonly messageId: string,
    reason: string,
  ) {
    super("corrupt_mail", `mail record ${messageId} is corrupt: ${reason}`);
  }
}

export class NotFoundError extends StoreError {
  override readonly name = "NotFoundError";
  constructor(what: string) {
    super("not_found", `${what} not found`);
  }
}

export class AlreadyExistsError extends StoreError {
  override readonly name = "AlreadyExistsError";
  constructor(what: string) {
    super("already_exists", `${what} already exists`);
  }
}

/** The database (or its quota) is full. The failed write left nothing behind. */
export class DiskFullError extends StoreError {
  override readonly name = "DiskFullError";
  constructor(options?: { cause?: unknown }) {
    super("disk_full", "database or disk is full", options);
  }
}

/** Maps driver errors that mean "no space" to {@link DiskFullError}; rethrows the rest. */
export function translateError(err: unknown): never {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "SQLITE_FULL") throw new DiskFullError({ cause: err });
  throw err;
}

/** Folds any error text onto one line. */
export function oneLineReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const folded = text
    .split(/\r?\n|\r/)
    .map((s) => s.trim())
    .filter(Boolean)
    .join(" | ");
  return folded.length > 0 ? folded : "unknown error";
}
