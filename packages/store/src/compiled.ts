import { type Compilable, CompiledQuery, type Kysely, type QueryResult } from "kysely";

/**
 * Hot multi-row statements compiled by kysely once per shape (e.g. "insert
 * 256 log rows") and then run with fresh parameters, skipping the query
 * builder's per-call work. The SQL is still kysely's, for the dialect in use.
 */
export class CompiledStatements {
  readonly #texts = new Map<string, { sql: string; arity: number }>();

  /** Runs the statement named `key`, built by `build` the first time, with `parameters`. */
  async run<R>(
    db: Pick<Kysely<unknown>, "executeQuery">,
    key: string,
    build: () => Compilable,
    parameters: readonly unknown[],
  ): Promise<R[]> {
    return [...(await this.execute<R>(db, key, build, parameters)).rows];
  }

  /** As {@link run}, but the whole result (`numAffectedRows` tells whether an update found its row). */
  async execute<R>(
    db: Pick<Kysely<unknown>, "executeQuery">,
    key: string,
    build: () => Compilable,
    parameters: readonly unknown[],
  ): Promise<QueryResult<R>> {
    let entry = this.#texts.get(key);
    if (entry === undefined) {
      const compiled = build().compile();
      entry = { sql: compiled.sql, arity: compiled.parameters.length };
      this.#texts.set(key, entry);
    }
    if (parameters.length !== entry.arity) {
      throw new RangeError(`statement ${key} takes ${entry.arity} parameters, got ${parameters.length}`);
    }
    return db.executeQuery<R>(CompiledQuery.raw(entry.sql, [...parameters]));
  }
}
