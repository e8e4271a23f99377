import type { Meta } from "@agentmux/common-ipc";
import type { Kysely } from "kysely";
import { z } from "zod";
import { AlreadyExistsError, NotFoundError, StoreError } from "./errors.js";
import { mergeMeta } from "./meta.js";
import type { FilesDB } from "./schema.js";
import type { SqliteFile } from "./sqlite.js";

/** Files are stored in parts of this many bytes. */
export const PART_SIZE = 64 * 1024;

export interface FileOptions {
  /** Circular files keep only their last `maxSize` bytes. */
  maxSize?: number;
  circular?: boolean;
}

export interface FileInfo {
  zoneId: string;
  name: string;
  /** Bytes ever appended: the offset the next append will get. */
  size: number;
  /** The first offset still readable (above 0 only for circular files). */
  start: number;
  createdTs: number;
  modTs: number;
  opts: FileOptions;
  meta: Meta;
}

export interface ReadResult {
  /** Offset of the first byte returned (clamped up to `start` for circular files). */
  offset: number;
  data: Buffer;
  /** File size at the time of reading. */
  size: number;
}

const Opts = z.object({ maxSize: z.number().int().positive().optional(), circular: z.boolean().optional() });
const MetaJson = z.record(z.string(), z.json());

/** Corrupt `opts`/`meta` JSON reads as defaults, so one bad row never blocks a transcript. */
function readJson<T>(text: string, schema: z.ZodType<T>, fallback: T): T {
  try {
    const r = schema.safeParse(JSON.parse(text));
    return r.success ? r.data : fallback;
  } catch {
    return fallback;
  }
}

type Db = Kysely<FilesDB>;
type Row = FilesDB["db_file"];

function startOf(size: number, opts: FileOptions): number {
  return opts.circular && opts.maxSize !== undefined ? Math.max(0, size - opts.maxSize) : 0;
}

function info(row: Row): FileInfo {
  const opts = readJson<FileOptions>(row.opts, Opts, {});
  const size = Number(row.size);
  return {
    zoneId: row.zoneid,
    name: row.name,
    size,
    start: startOf(size, opts),
    createdTs: Number(row.createdts),
    modTs: Number(row.modts),
    opts,
    meta: readJson<Meta>(row.meta, MetaJson, {}),
  };
}

function toBytes(data: Uint8Array | string): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Files keyed by (zone, name), e.g. an agent block's transcript, in
 * `filestore.db`. Every change is one `BEGIN IMMEDIATE` transaction, so
 * several processes may append to the same file and only whole appends
 * interleave.
 */
export class FileStore {
  constructor(
    readonly file: SqliteFile<FilesDB>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Creates an empty file; AlreadyExistsError if it exists. */
  async makeFile(zoneId: string, name: string, opts: FileOptions = {}, meta: Meta = {}): Promise<FileInfo> {
    if (opts.circular && opts.maxSize === undefined) {
      throw new StoreError("invalid_argument", "a circular file needs maxSize");
    }
    return this.file.transaction(async (db) => {
      if (await this.#row(db, zoneId, name)) throw new AlreadyExistsError(`file ${zoneId}/${name}`);
      return info(await this.#insert(db, zoneId, name, opts, meta));
    });
  }

  async stat(zoneId: string, name: string): Promise<FileInfo | undefined> {
    const row = await this.#row(this.file.db, zoneId, name);
    return row ? info(row) : undefined;
  }

  /**
   * Appends bytes (creating the file with default options if needed) and
   * returns the offset they were written at.
   */
  async append(zoneId: string, name: string, data: Uint8Array | string): Promise<{ offset: number; size: number }> {
    const bytes = toBytes(data);
    return this.file.transaction(async (db) => {
      const row = (await this.#row(db, zoneId, name)) ?? (await this.#insert(db, zoneId, name, {}, {}));
      const file = info(row);
      const offset = file.size;
      await this.#writeParts(db, zoneId, name, offset, bytes);
      const size = offset + bytes.length;
      const start = startOf(size, file.opts);
      if (start > file.start) {
        // Circular: drop whole parts that are now entirely before the readable window.
        await db
          .deleteFrom("db_file_data")
          .where("zoneid", "=", zoneId)
          .where("name", "=", name)
          .where("partidx", "<", Math.floor(start / PART_SIZE))
          .execute();
      }
      await db
        .updateTable("db_file")
        .set({ size, modts: this.clock() })
        .where("zoneid", "=", zoneId)
        .where("name", "=", name)
        .execute();
      return { offset, size };
    });
  }

  /** Reads up to `length` bytes from `offset` (clamped to what is still stored). */
  async read(zoneId: string, name: string, offset = 0, length = Number.MAX_SAFE_INTEGER): Promise<ReadResult> {
    const db = this.file.db;
    const row = await this.#row(db, zoneId, name);
    if (!row) throw new NotFoundError(`file ${zoneId}/${name}`);
    const file = info(row);
    const from = Math.min(Math.max(offset, file.start), file.size);
    const to = Math.min(file.size, from + Math.max(0, length));
    if (to <= from) return { offset: from, data: Buffer.alloc(0), size: file.size };
    const parts = await db
      .selectFrom("db_file_data")
      .select(["partidx", "data"])
      .where("zoneid", "=", zoneId)
      .where("name", "=", name)
      .where("partidx", ">=", Math.floor(from / PART_SIZE))
      .where("partidx", "<=", Math.floor((to - 1) / PART_SIZE))
      .orderBy("partidx")
      .execute();
    const out = Buffer.alloc(to - from);
    for (const p of parts) {
      const partStart = p.partidx * PART_SIZE;
      const src = toBytes(p.data);
      const s = Math.max(from, partStart);
      const e = Math.min(to, partStart + src.length);
      if (e > s) src.copy(out, s - from, s - partStart, e - partStart);
    }
    return { offset: from, data: out, size: file.size };
  }

  /** Merges a meta patch (`null` deletes) or, with `replace`, replaces the meta map. */
  async writeMeta(zoneId: string, name: string, meta: Meta, options: { replace?: boolean } = {}): Promise<FileInfo> {
    return this.file.transaction(async (db) => {
      const row = await this.#row(db, zoneId, name);
      if (!row) throw new NotFoundError(`file ${zoneId}/${name}`);
      const next = options.replace ? meta : mergeMeta(info(row).meta, meta);
      await db
        .updateTable("db_file")
        .set({ meta: JSON.stringify(next), modts: this.clock() })
        .where("zoneid", "=", zoneId)
        .where("name", "=", name)
        .execute();
      return { ...info(row), meta: next };
    });
  }

  async deleteFile(zoneId: string, name: string): Promise<void> {
    await this.file.transaction((db) =>
      db.deleteFrom("db_file").where("zoneid", "=", zoneId).where("name", "=", name).execute(),
    );
  }

  /** Deletes every file of a zone (e.g. when its block is deleted). */
  async deleteZone(zoneId: string): Promise<void> {
    await this.file.transaction((db) => db.deleteFrom("db_file").where("zoneid", "=", zoneId).execute());
  }

  async list(zoneId: string): Promise<FileInfo[]> {
    const rows = await this.file.db
      .selectFrom("db_file")
      .selectAll()
      .where("zoneid", "=", zoneId)
      .orderBy("name")
      .execute();
    return rows.map(info);
  }

  async #row(db: Db, zoneId: string, name: string): Promise<Row | undefined> {
    return db
      .selectFrom("db_file")
      .selectAll()
      .where("zoneid", "=", zoneId)
      .where("name", "=", name)
      .executeTakeFirst();
  }

  async #insert(db: Db, zoneId: string, name: string, opts: FileOptions, meta: Meta): Promise<Row> {
    const now = this.clock();
    const row: Row = {
      zoneid: zoneId,
      name,
      size: 0,
      createdts: now,
      modts: now,
      opts: JSON.stringify(opts),
      meta: JSON.stringify(meta),
    };
    await db.insertInto("db_file").values(row).execute();
    return row;
  }

  /** Writes `bytes` at absolute `offset`, completing a partial last part first. */
  async #writeParts(db: Db, zoneId: string, name: string, offset: number, bytes: Buffer): Promise<void> {
    let pos = 0;
    let idx = Math.floor(offset / PART_SIZE);
    const within = offset % PART_SIZE;
    const rows: FilesDB["db_file_data"][] = [];
    if (within > 0) {
      const existing = await db
        .selectFrom("db_file_data")
        .select("data")
        .where("zoneid", "=", zoneId)
        .where("name", "=", name)
        .where("partidx", "=", idx)
        .executeTakeFirst();
      const head = existing ? toBytes(existing.data).subarray(0, within) : Buffer.alloc(within);
      const take = Math.min(PART_SIZE - within, bytes.length);
      rows.push({ zoneid: zoneId, name, partidx: idx, data: Buffer.concat([head, bytes.subarray(0, take)]) });
      pos = take;
      idx++;
    }
    while (pos < bytes.length) {
      const take = Math.min(PART_SIZE, bytes.length - pos);
      rows.push({ zoneid: zoneId, name, partidx: idx, data: bytes.subarray(pos, pos + take) });
      pos += take;
      idx++;
    }
    for (const r of rows) {
      await db
        .insertInto("db_file_data")
        .values(r)
        .onConflict((oc) => oc.columns(["zoneid", "name", "partidx"]).doUpdateSet({ data: r.data }))
        .execute();
    }
  }
}
