import type { Kysely } from "kysely";
import type { Migration } from "kysely/migration";

export type SagaState = "running" | "completed" | "failed" | "compensating" | "compensated" | "failed_compensation";
export type StepState = "pending" | "succeeded" | "failed" | "compensated";

export interface SagaRow {
  saga_id: number;
  name: string;
  state: SagaState;
  started_at: string;
  terminal_at: string | null;
  failure_reason: string | null;
  input_json: string;
}

export interface StepRow {
  saga_id: number;
  step_index: number;
  /** The command's `cmd` tag. */
  name: string;
  state: StepState;
  cmd_json: string;
  /** The events the command caused, or `{"error": …}`. */
  output_json: string | null;
  /** For an inverse step: the index of the step it undoes. */
  compensates: number | null;
  started_at: string;
  ended_at: string | null;
}

export interface SagaDB {
  saga: SagaRow;
  saga_step: StepRow;
}

export const sagaMigrations: Record<string, Migration> = {
  "0001_saga_log": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("saga")
        .addColumn("saga_id", "integer", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("started_at", "text", (c) => c.notNull())
        .addColumn("terminal_at", "text")
        .addColumn("failure_reason", "text")
        .addColumn("input_json", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("saga_step")
        .addColumn("saga_id", "integer", (c) => c.notNull().references("saga.saga_id"))
        .addColumn("step_index", "integer", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("cmd_json", "text", (c) => c.notNull())
        .addColumn("output_json", "text")
        .addColumn("compensates", "integer")
        .addColumn("started_at", "text", (c) => c.notNull())
        .addColumn("ended_at", "text")
        .addPrimaryKeyConstraint("saga_step_pk", ["saga_id", "step_index"])
        .execute();
      await db.schema
        .createIndex("saga_unresolved")
        .on("saga")
        .column("state")
        .where((eb) => eb("state", "in", ["running", "compensating", "failed"]))
        .execute();
    },
  },
};
