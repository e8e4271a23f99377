/**
 * Durable mail: messages accepted for delivery to one target each, in the
 * `mail` table of `objects.db`. The store knows nothing of who sends or
 * delivers them; it keeps the promise its owner makes ("this message will be
 * delivered") across a crash of the process.
 *
 * Every write is durable when its promise resolves: it was committed (in WAL
 * mode; `synchronous` NORMAL survives a crash of the process, FULL also a
 * power loss). Writes are GROUP-COMMITTED: the first write after a quiet
 * spell starts a transaction in the event loop's next check phase, so that
 * every write caused by the same loop iteration (all the requests read from
 * sockets in it) shares it; writes that arrive while a commit runs wait for
 * the next transaction, which takes all of them together. Many concurrent
 * writers therefore pay for one commit per batch, not one each.
 * A write that fails its batch (a full disk, a bad row) is retried alone, so
 * it cannot fail the writes that happened to share its transaction.
 *
 * One `MailStore` must be the only writer of its file (srv holds the data
 * dir exclusively): acceptance order (`seq`) is counted in memory.
 */
import { type Kysely, sql } from "kysely";
import { z } from "zod";
import { CompiledStatements } from "./compiled.js";
import { CorruptMailError, NotFoundError, StoreError } from "./errors.js";
import type { MailRow, ObjectsDB } from "./schema.js";
import type { SqliteFile } from "./sqlite.js";

export const MAIL_STATES = ["pending", "delivering", "delivered", "read", "failed"] as const;
/** `pending`: accepted; `delivering`: being handed over now; the others: settled. */
export type MailState = (typeof MAIL_STATES)[number];

/**
 * The records still owed a delivery. The same text as the condition of the
 * partial index `mail_pending_by_target` (migration 0004_mail), so SQLite
 * can use that index: a partial index serves only queries that repeat it.
 */
const MAIL_UNSETTLED = sql<boolean>`state in ('pending', 'delivering')`;

/** How a delivery ended: any JSON object (the store does not interpret it). */
export type MailOutcome = { readonly [key: string]: unknown };

/** A message for one target, as accepted. */
export interface NewMail {
  /** Unique: accepting an id that is already stored leaves the stored record as it is. */
  readonly messageId: string;
  readonly bundleName: string;
  readonly senderSession: string;
  readonly targetSession: string;
  /** The other targets of the same message. */
  readonly ccSessions: readonly string[];
  readonly body: string;
  /** RFC 3339; stored in UTC with milliseconds (`toISOString`) so that text order is time order. */
  readonly createdAt: string;
}

/** A record as stored. */
export interface StoredMail extends NewMail {
  readonly state: MailState;
  /** Set by `mark`; null until then. */
  readonly outcome: MailOutcome | null;
  /** When the record was accepted or last marked (RFC 3339, UTC). */
  readonly updatedAt: string;
}

/** What group commit did so far (for benchmarks and metrics). */
export interface MailCommitStats {
  /** Transactions committed. */
  readonly commits: number;
  /** `accept` and `mark` calls those transactions carried. */
  readonly writes: number;
  /** Records accepted (duplicates included). */
  readonly records: number;
  /** Transactions that carried at least one accept (`records / acceptCommits`: records per group commit). */
  readonly acceptCommits: number;
}

/** Records per transaction at most; a longer queue is split over several commits. */
export const MAIL_MAX_BATCH_RECORDS = 4096;

/** Multi-row insert sizes: any count is written as a few of these (keeps the statement cache small). */
const INSERT_CHUNKS = [256, 64, 16, 4, 1] as const;

const NonEmpty = z.string().min(1);
const NewMailShape = z.object({
  messageId: NonEmpty,
  bundleName: NonEmpty,
  senderSession: NonEmpty,
  targetSession: NonEmpty,
  ccSessions: z.array(NonEmpty),
  body: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
});
const CcShape = z.array(z.string());
const OutcomeShape = z.record(z.string(), z.unknown());
const StateShape = z.enum(MAIL_STATES);

type Db = Kysely<ObjectsDB>;

/** A row as inserted, with its columns in the order the compiled insert takes them. */
type InsertRow = Omit<MailRow, "outcome"> & { outcome: null };

interface Done {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

type Write =
  | { readonly kind: "accept"; readonly records: readonly NewMail[]; readonly done: Done }
  | {
      readonly kind: "mark";
      readonly messageId: string;
      readonly state: MailState;
      /** JSON text; null clears the outcome, undefined keeps it. */
      readonly outcome: string | null | undefined;
      readonly done: Done;
    };

export class MailStore {
  readonly #file: SqliteFile<ObjectsDB>;
  readonly #clock: () => number;
  readonly #statements = new CompiledStatements();
  /** Writes waiting for the next transaction, in call order. */
  readonly #queue: Write[] = [];
  #draining = false;
  readonly #idleWaiters: (() => void)[] = [];
  /** The last `seq` given out; read from the table by the first write. */
  #seq: number | undefined;
  #stats = { commits: 0, writes: 0, records: 0, acceptCommits: 0 };

  constructor(file: SqliteFile<ObjectsDB>, clock: () => number = Date.now) {
    this.#file = file;
    this.#clock = clock;
  }

  get stats(): MailCommitStats {
    return { ...this.#stats };
  }

  // --- writes ----------------------------------------------------------------

  /**
   * Stores the records as `pending`, all or none, and resolves once they are
   * committed. Idempotent on `messageId`: a record already stored (or named
   * twice in one call) is left as it is. A malformed record rejects the call
   * with `invalid_argument` before anything is written.
   */
  accept(records: readonly NewMail[]): Promise<void> {
    let checked: NewMail[];
    try {
      checked = records.map(checkNewMail);
    } catch (err) {
      return Promise.reject(err);
    }
    if (checked.length === 0) return Promise.resolve();
    return this.#enqueue((done) => ({ kind: "accept", records: checked, done }));
  }

  /**
   * Sets a record's state (any state; the caller owns the life cycle) and,
   * when given, its outcome (`null` clears it). Resolves once committed;
   * rejects with `NotFoundError` when no record has that id.
   */
  mark(messageId: string, state: MailState, outcome?: MailOutcome | null): Promise<void> {
    if (!StateShape.safeParse(state).success) {
      return Promise.reject(
        new StoreError("invalid_argument", `mail state must be one of ${MAIL_STATES.join(", ")}, got ${String(state)}`),
      );
    }
    let json: string | null | undefined;
    try {
      json = outcome === undefined || outcome === null ? outcome : outcomeText(outcome);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#enqueue((done) => ({ kind: "mark", messageId, state, outcome: json, done }));
  }

  /**
   * Resolves once no write is queued or committing (so every write made so
   * far has settled). Under a steady stream of writes that can take a while:
   * meant for closing, not for the hot path.
   */
  idle(): Promise<void> {
    if (!this.#draining) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  // --- reads -----------------------------------------------------------------

  /** One record, or undefined. A corrupt row throws `CorruptMailError` naming it. */
  async get(messageId: string): Promise<StoredMail | undefined> {
    const row = await this.#file.db
      .selectFrom("mail")
      .selectAll()
      .where("message_id", "=", messageId)
      .executeTakeFirst();
    return row === undefined ? undefined : parseRow(row);
  }

  /**
   * The records still owed a delivery (`pending` and `delivering`), oldest
   * first (creation time, then acceptance order), for every target or one.
   * Fails loudly (`CorruptMailError`) if any of them is corrupt.
   */
  async pending(targetSession?: string): Promise<StoredMail[]> {
    let query = this.#file.db.selectFrom("mail").selectAll().where(MAIL_UNSETTLED);
    if (targetSession !== undefined) query = query.where("target_session", "=", targetSession);
    const rows = await query.orderBy("created_at").orderBy("seq").execute();
    return rows.map(parseRow);
  }

  /**
   * The newest records, newest first (creation time, then acceptance order), at most `limit`:
   * a timeline of who sent what to whom and where it is. Fails loudly (`CorruptMailError`) if
   * any of them is corrupt.
   */
  async recent(limit: number): Promise<StoredMail[]> {
    const rows = await this.#file.db
      .selectFrom("mail")
      .selectAll()
      .orderBy("created_at", "desc")
      .orderBy("seq", "desc")
      .limit(Math.max(0, Math.floor(limit)))
      .execute();
    return rows.map(parseRow);
  }

  // --- group commit ----------------------------------------------------------

  #enqueue(make: (done: Done) => Write): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push(make({ resolve, reject }));
      if (this.#draining) return;
      this.#draining = true;
      // Started from the event loop's check phase, not at once: the driver is synchronous, so a
      // commit started now would end before the next socket read, and every request would commit
      // alone. Waiting for the check phase lets every write caused by this loop iteration's I/O
      // (all the frames read in it) join the same transaction, at a cost of microseconds.
      setImmediate(() => void this.#drain());
    });
  }

  /** Commits what is queued, batch after batch, until nothing is. Never rejects. */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#takeBatch();
      try {
        await this.#commit(batch);
      } catch (err) {
        // #commit settles every write itself; this only guards against a bug leaving callers hanging.
        for (const write of batch) write.done.reject(err);
      }
    }
    this.#draining = false;
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** The oldest queued writes, up to MAIL_MAX_BATCH_RECORDS records (at least one write). */
  #takeBatch(): Write[] {
    let records = 0;
    let n = 0;
    for (const write of this.#queue) {
      const size = write.kind === "accept" ? write.records.length : 1;
      if (n > 0 && records + size > MAIL_MAX_BATCH_RECORDS) break;
      records += size;
      n++;
    }
    return this.#queue.splice(0, n);
  }

  /** One transaction for the batch; each write is resolved or rejected after it. */
  async #commit(batch: readonly Write[]): Promise<void> {
    let verdicts: (Error | undefined)[];
    try {
      verdicts = await this.#file.transaction((trx) => this.#apply(trx, batch));
    } catch (err) {
      // The seqs handed out were rolled back with the rows: count them again from the table.
      this.#seq = undefined;
      const [only] = batch;
      if (batch.length === 1 && only !== undefined) {
        only.done.reject(err);
        return;
      }
      // One bad write must not fail the writes that shared its transaction: each goes again alone.
      for (const write of batch) await this.#commit([write]);
      return;
    }
    this.#stats.commits++;
    this.#stats.writes += batch.length;
    if (batch.some((write) => write.kind === "accept")) this.#stats.acceptCommits++;
    batch.forEach((write, i) => {
      const verdict = verdicts[i];
      if (verdict === undefined) {
        if (write.kind === "accept") this.#stats.records += write.records.length;
        write.done.resolve();
      } else write.done.reject(verdict);
    });
  }

  /**
   * Writes the batch in call order: runs of accepts as multi-row inserts,
   * marks one update each. Returns, per write, the error it alone earned
   * (a mark of an unknown id), which does not roll back the others.
   */
  async #apply(trx: Db, batch: readonly Write[]): Promise<(Error | undefined)[]> {
    this.#seq ??= await this.#maxSeq(trx);
    const now = new Date(this.#clock()).toISOString();
    const verdicts: (Error | undefined)[] = [];
    let rows: InsertRow[] = [];
    for (const write of batch) {
      if (write.kind === "accept") {
        for (const r of write.records) rows.push(this.#row(r, now));
        verdicts.push(undefined);
        continue;
      }
      await this.#insert(trx, rows);
      rows = [];
      verdicts.push(await this.#mark(trx, write, now));
    }
    await this.#insert(trx, rows);
    return verdicts;
  }

  #row(r: NewMail, now: string): InsertRow {
    this.#seq = (this.#seq ?? 0) + 1;
    // Key order is column order in the compiled insert; see #insert.
    return {
      message_id: r.messageId,
      seq: this.#seq,
      bundle_name: r.bundleName,
      sender_session: r.senderSession,
      target_session: r.targetSession,
      cc_sessions: JSON.stringify(r.ccSessions),
      body: r.body,
      created_at: r.createdAt,
      state: "pending",
      outcome: null,
      updated_at: now,
    };
  }

  async #insert(trx: Db, rows: readonly InsertRow[]): Promise<void> {
    let at = 0;
    for (const size of INSERT_CHUNKS) {
      while (rows.length - at >= size) {
        const chunk = rows.slice(at, at + size);
        at += size;
        await this.#statements.run(
          trx,
          `mail:insert:${size}`,
          () =>
            trx
              .insertInto("mail")
              .values(chunk)
              .onConflict((oc) => oc.column("message_id").doNothing()),
          chunk.flatMap((r) => [
            r.message_id,
            r.seq,
            r.bundle_name,
            r.sender_session,
            r.target_session,
            r.cc_sessions,
            r.body,
            r.created_at,
            r.state,
            r.outcome,
            r.updated_at,
          ]),
        );
      }
    }
  }

  async #mark(trx: Db, write: Write & { kind: "mark" }, now: string): Promise<Error | undefined> {
    const result =
      write.outcome === undefined
        ? await this.#statements.execute(
            trx,
            "mail:mark",
            () => trx.updateTable("mail").set({ state: write.state, updated_at: now }).where("message_id", "=", ""),
            [write.state, now, write.messageId],
          )
        : await this.#statements.execute(
            trx,
            "mail:mark:outcome",
            () =>
              trx
                .updateTable("mail")
                .set({ state: write.state, outcome: write.outcome, updated_at: now })
                .where("message_id", "=", ""),
            [write.state, write.outcome, now, write.messageId],
          );
    return result.numAffectedRows === 0n ? new NotFoundError(`mail record ${write.messageId}`) : undefined;
  }

  async #maxSeq(trx: Db): Promise<number> {
    const row = await trx
      .selectFrom("mail")
      .select((eb) => eb.fn.max("seq").as("max"))
      .executeTakeFirst();
    return Number(row?.max ?? 0);
  }
}

/** Checks one record and puts its time in canonical form. */
function checkNewMail(record: NewMail): NewMail {
  const r = NewMailShape.safeParse(record);
  if (!r.success) {
    const issue = r.error.issues[0];
    const id = typeof record?.messageId === "string" ? ` ${record.messageId}` : "";
    throw new StoreError(
      "invalid_argument",
      `mail record${id}: ${issue?.path.join(".") || "record"}: ${issue?.message ?? "invalid"}`,
    );
  }
  return { ...r.data, createdAt: new Date(r.data.createdAt).toISOString() };
}

function outcomeText(outcome: MailOutcome): string {
  if (!OutcomeShape.safeParse(outcome).success) {
    throw new StoreError("invalid_argument", "a mail outcome must be a JSON object");
  }
  try {
    return JSON.stringify(outcome);
  } catch (err) {
    throw new StoreError("invalid_argument", `a mail outcome must be JSON: ${(err as Error).message}`);
  }
}

/** Reads a stored row; the JSON columns and the state are checked, and a bad row is named. */
function parseRow(row: MailRow): StoredMail {
  const id = row.message_id;
  const state = StateShape.safeParse(row.state);
  if (!state.success) throw new CorruptMailError(id, `unknown state ${JSON.stringify(row.state)}`);
  const cc = CcShape.safeParse(parseJson(id, "cc_sessions", row.cc_sessions));
  if (!cc.success) throw new CorruptMailError(id, "cc_sessions is not a list of session ids");
  let outcome: MailOutcome | null = null;
  if (row.outcome !== null) {
    const parsed = OutcomeShape.safeParse(parseJson(id, "outcome", row.outcome));
    if (!parsed.success) throw new CorruptMailError(id, "outcome is not a JSON object");
    outcome = parsed.data;
  }
  return {
    messageId: id,
    bundleName: row.bundle_name,
    senderSession: row.sender_session,
    targetSession: row.target_session,
    ccSessions: cc.data,
    body: row.body,
    createdAt: row.created_at,
    state: state.data,
    outcome,
    updatedAt: row.updated_at,
  };
}

function parseJson(id: string, column: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CorruptMailError(id, `${column} is not JSON (${(err as Error).message})`);
  }
}
