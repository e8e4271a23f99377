export * from "./errors.js";
export { type FileInfo, type FileOptions, FileStore, PART_SIZE, type ReadResult } from "./file-store.js";
export { FileLock, LockHeldError } from "./lock.js";
export {
  MAIL_MAX_BATCH_RECORDS,
  MAIL_STATES,
  type MailCommitStats,
  type MailOutcome,
  type MailState,
  MailStore,
  type NewMail,
  type StoredMail,
} from "./mail-store.js";
export { mergeMeta } from "./meta.js";
export {
  type ApplyResult,
  DEFAULT_RETAIN_EVENTS,
  type LoggedEvents,
  type ObjectModel,
  ObjectStore,
  STARTER_WORKSPACE,
} from "./object-store.js";
export * from "./objects.js";
export { formatORef, isOType, type ORef, parseORef } from "./oref.js";
export {
  type FilesDB,
  fileMigrations,
  type MailRow,
  type ObjectsDB,
  OTYPES,
  type OType,
  objectMigrations,
} from "./schema.js";
export { type OpenOptions, SqliteFile, type Synchronous } from "./sqlite.js";
export { openStore, type Store, type StoreOptions } from "./store.js";
