import { type OpenOptions, SqliteFile } from "@agentmux/store";
import { type SagaDB, type SagaRow, type SagaState, type StepRow, type StepState, sagaMigrations } from "./schema.js";

/** The journal of sagas and their steps in its own database (`db/sagas.db`). */
export class SagaLog {
  private constructor(readonly file: SqliteFile<SagaDB>) {}

  /** Opens the journal (SchemaTooNewError for a newer file); call `migrate()` before use. */
  static async open(path: string, options: OpenOptions = {}): Promise<SagaLog> {
    return new SagaLog(await SqliteFile.open<SagaDB>(path, sagaMigrations, options));
  }

  get pendingMigrations(): number {
    return this.file.pendingMigrations;
  }

  migrate(): Promise<void> {
    return this.file.migrate();
  }

  close(): Promise<void> {
    return this.file.close();
  }

  /** The highest saga id ever journaled (0 for an empty log). */
  async maxSagaId(): Promise<number> {
    const row = await this.file.db
      .selectFrom("saga")
      .select((eb) => eb.fn.max("saga_id").as("max"))
      .executeTakeFirst();
    return Number(row?.max ?? 0);
  }

  /** Journals a new saga. A plain insert: an existing id is an error, never overwritten. */
  async start(sagaId: number, name: string, input: unknown, now: string): Promise<void> {
    await this.file.db
      .insertInto("saga")
      .values({
        saga_id: sagaId,
        name,
        state: "running",
        started_at: now,
        terminal_at: null,
        failure_reason: null,
        input_json: JSON.stringify(input ?? null),
      })
      .execute();
  }

  async setState(sagaId: number, state: SagaState, now: string, reason: string | null = null): Promise<void> {
    const terminal = state !== "running" && state !== "compensating";
    await this.file.db
      .updateTable("saga")
      .set({ state, failure_reason: reason, terminal_at: terminal ? now : null })
      .where("saga_id", "=", sagaId)
      .execute();
  }

  /** Journals a step's intent (state `pending`) before it runs. */
  async intent(
    sagaId: number,
    index: number,
    name: string,
    cmdJson: string,
    now: string,
    compensates: number | null = null,
  ): Promise<void> {
    await this.file.db
      .insertInto("saga_step")
      .values({
        saga_id: sagaId,
        step_index: index,
        name,
        state: "pending",
        cmd_json: cmdJson,
        output_json: null,
        compensates,
        started_at: now,
        ended_at: null,
      })
      .execute();
  }

  /** Journals a step's result. */
  async finish(sagaId: number, index: number, state: StepState, output: unknown, now: string): Promise<void> {
    await this.file.db
      .updateTable("saga_step")
      .set({ state, output_json: JSON.stringify(output), ended_at: now })
      .where("saga_id", "=", sagaId)
      .where("step_index", "=", index)
      .execute();
  }

  /** Marks a succeeded step as undone. Only a `succeeded` step changes, so repeating it is harmless. */
  async markCompensated(sagaId: number, index: number): Promise<void> {
    await this.file.db
      .updateTable("saga_step")
      .set({ state: "compensated" })
      .where("saga_id", "=", sagaId)
      .where("step_index", "=", index)
      .where("state", "=", "succeeded")
      .execute();
  }

  async saga(sagaId: number): Promise<SagaRow | undefined> {
    return this.file.db.selectFrom("saga").selectAll().where("saga_id", "=", sagaId).executeTakeFirst();
  }

  async steps(sagaId: number): Promise<StepRow[]> {
    return this.file.db
      .selectFrom("saga_step")
      .selectAll()
      .where("saga_id", "=", sagaId)
      .orderBy("step_index")
      .execute();
  }

  /** Sagas a crash (or a timeout) left unfinished: running, compensating or failed. */
  async unresolved(): Promise<SagaRow[]> {
    return this.file.db
      .selectFrom("saga")
      .selectAll()
      .where("state", "in", ["running", "compensating", "failed"])
      .orderBy("saga_id")
      .execute();
  }
}
