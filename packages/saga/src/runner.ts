import { type BusEvent, type Command, type CommandInput, parseCommand } from "@agentmux/common-ipc";
import { inverseOf } from "./inverse.js";
import type { SagaLog } from "./log.js";

/**
 * Runs one command for a saga step: decides, persists and publishes it, and
 * returns the events it caused. An `error` event among them means the
 * command was refused. The saga package knows nothing else about commands.
 */
export type Dispatch = (cmd: Command) => Promise<BusEvent[]>;

export type SagaEventDraft =
  | { event: "saga_started"; saga_id: number; name: string }
  | { event: "saga_completed"; saga_id: number }
  | { event: "saga_failed"; saga_id: number; reason: string };

/** Announces saga lifecycle events (srv versions and broadcasts them like any other event). */
export type Publish = (ev: SagaEventDraft) => Promise<void> | void;

/** Builds a step's command from the events of the steps before it. */
export type SagaStep = (prior: readonly BusEvent[][]) => CommandInput;

export interface SagaDefinition {
  name: string;
  steps: readonly SagaStep[];
}

export interface SagaOutcome {
  sagaId: number;
  state: "completed" | "compensated" | "failed" | "failed_compensation";
  reason?: string;
  /** The events of each step that succeeded, in order. */
  results: BusEvent[][];
}

export interface SagaRunnerOptions {
  log: SagaLog;
  dispatch: Dispatch;
  publish: Publish;
  /** Per-saga deadline (default 5000 ms). A saga past it is marked failed and left to boot recovery. */
  timeoutMs?: number;
  now?: () => string;
  /** Journal writes after the start that fail are reported here; the saga carries on. */
  onWarning?: (message: string, err?: unknown) => void;
}

export const DEFAULT_SAGA_TIMEOUT_MS = 5000;

/** The `req_id` a saga step's command carries, so its events can be found in the durable log. */
export function stepReqId(sagaId: number, index: number): string {
  return `saga:${sagaId}:${index}`;
}

interface Done {
  index: number;
  cmd: Command;
  events: BusEvent[];
}

class Refused extends Error {}

/** The shared machinery of the runner and of recovery: journaled dispatch and undo. */
export class SagaJournal {
  constructor(
    readonly log: SagaLog,
    readonly dispatch: Dispatch,
    readonly now: () => string,
    readonly warn: (message: string, err?: unknown) => void,
  ) {}

  /** A journal write whose failure must not fail the user's command. */
  async record(what: string, write: Promise<void>): Promise<void> {
    try {
      await write;
    } catch (err) {
      this.warn(`saga journal: ${what} failed`, err);
    }
  }

  /**
   * Journals intent, dispatches, journals the result. Returns the events, or
   * throws Refused with the reason (the step row then says `failed`).
   */
  async step(sagaId: number, index: number, input: CommandInput, compensates: number | null = null): Promise<Done> {
    const parsed = parseCommand({ ...input, req_id: stepReqId(sagaId, index) });
    const name = typeof input.cmd === "string" ? input.cmd : "invalid";
    if (!parsed.ok) {
      await this.record("intent", this.log.intent(sagaId, index, name, JSON.stringify(input), this.now(), compensates));
      await this.record(
        "result",
        this.log.finish(sagaId, index, "failed", { error: parsed.error.message }, this.now()),
      );
      throw new Refused(parsed.error.message);
    }
    const cmd = parsed.value;
    await this.record("intent", this.log.intent(sagaId, index, cmd.cmd, JSON.stringify(cmd), this.now(), compensates));
    let events: BusEvent[];
    try {
      events = await this.dispatch(cmd);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await this.record("result", this.log.finish(sagaId, index, "failed", { error: reason }, this.now()));
      throw new Refused(reason);
    }
    const refusal = events.find((e) => e.event === "error");
    if (refusal?.event === "error") {
      await this.record("result", this.log.finish(sagaId, index, "failed", { error: refusal.message }, this.now()));
      throw new Refused(refusal.message);
    }
    const state = compensates === null ? "succeeded" : "compensated";
    await this.record("result", this.log.finish(sagaId, index, state, events, this.now()));
    return { index, cmd, events };
  }

  /**
   * Undoes succeeded steps, newest first, each inverse journaled at a new
   * index; the original step is then marked compensated. Returns the
   * problems (no inverse, refused inverse); an empty list means all undone.
   */
  async undo(sagaId: number, done: readonly Done[], firstIndex: number): Promise<string[]> {
    const problems: string[] = [];
    let index = firstIndex;
    for (const step of [...done].reverse()) {
      const inverse = inverseOf(step.cmd, step.events);
      if (!inverse.ok) {
        const at = index++;
        await this.record("no-inverse", this.log.intent(sagaId, at, inverse.reason, "null", this.now(), step.index));
        await this.record("no-inverse", this.log.finish(sagaId, at, "failed", { error: inverse.reason }, this.now()));
        problems.push(`step ${step.index} (${step.cmd.cmd}): ${inverse.reason}`);
        continue;
      }
      try {
        await this.step(sagaId, index++, inverse.command, step.index);
        await this.record("compensated", this.log.markCompensated(sagaId, step.index));
      } catch (err) {
        problems.push(`step ${step.index} (${step.cmd.cmd}): inverse refused: ${(err as Error).message}`);
      }
    }
    return problems;
  }
}

/**
 * Runs sagas: a named list of steps, each a command handed to the injected
 * dispatcher. Intent is journaled before a step runs and its result after;
 * when a step is refused, the steps done so far are undone newest first.
 */
export class SagaRunner {
  readonly #journal: SagaJournal;
  readonly #publish: Publish;
  readonly #timeoutMs: number;
  #lastId: number;

  private constructor(options: SagaRunnerOptions, lastId: number) {
    const now = options.now ?? (() => new Date().toISOString());
    this.#journal = new SagaJournal(options.log, options.dispatch, now, options.onWarning ?? (() => {}));
    this.#publish = options.publish;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_SAGA_TIMEOUT_MS;
    this.#lastId = lastId;
  }

  /** Creates a runner whose saga ids continue after the highest one in the log. */
  static async create(options: SagaRunnerOptions): Promise<SagaRunner> {
    let lastId = 0;
    try {
      lastId = await options.log.maxSagaId();
    } catch (err) {
      options.onWarning?.("saga journal: could not read the highest saga id; starting at 1", err);
    }
    return new SagaRunner(options, lastId);
  }

  /**
   * Runs a saga to its end. Throws only if the saga cannot be journaled at
   * all (then no step has run); every other outcome is returned.
   */
  async run(def: SagaDefinition, input?: unknown): Promise<SagaOutcome> {
    const j = this.#journal;
    const sagaId = ++this.#lastId;
    await j.log.start(sagaId, def.name, input, j.now());
    await this.#publish({ event: "saga_started", saga_id: sagaId, name: def.name });

    const done: Done[] = [];
    let timedOut = false;
    const forward = async (): Promise<string | undefined> => {
      for (let i = 0; i < def.steps.length; i++) {
        if (timedOut) return undefined;
        const build = def.steps[i] as SagaStep;
        try {
          done.push(await j.step(sagaId, i, build(done.map((d) => d.events))));
        } catch (err) {
          if (err instanceof Refused) return err.message;
          throw err;
        }
      }
      return undefined;
    };

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#timeoutMs);
    });
    const result = await Promise.race([forward(), deadline]).finally(() => clearTimeout(timer));
    const results = done.map((d) => d.events);

    if (result === "timeout") {
      timedOut = true;
      const reason = `timed out after ${this.#timeoutMs} ms`;
      await j.record("state", j.log.setState(sagaId, "failed", j.now(), reason));
      await this.#publish({ event: "saga_failed", saga_id: sagaId, reason });
      return { sagaId, state: "failed", reason, results };
    }
    if (result === undefined) {
      await j.record("state", j.log.setState(sagaId, "completed", j.now()));
      await this.#publish({ event: "saga_completed", saga_id: sagaId });
      return { sagaId, state: "completed", results };
    }
    await j.record("state", j.log.setState(sagaId, "compensating", j.now()));
    const problems = await j.undo(sagaId, done, done.length + 1);
    const state = problems.length === 0 ? "compensated" : "failed_compensation";
    const reason = problems.length === 0 ? result : `${result}; ${problems.join("; ")}`;
    await j.record("state", j.log.setState(sagaId, state, j.now(), reason));
    await this.#publish({ event: "saga_failed", saga_id: sagaId, reason });
    return { sagaId, state, reason, results };
  }
}
