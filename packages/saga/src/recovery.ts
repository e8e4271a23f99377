import { type BusEvent, type Command, parseCommand } from "@agentmux/common-ipc";
import type { SagaLog } from "./log.js";
import { type Dispatch, SagaJournal, stepReqId } from "./runner.js";
import type { StepRow } from "./schema.js";

export interface RecoveryOptions {
  log: SagaLog;
  dispatch: Dispatch;
  /**
   * Looks up the events a command with this `req_id` caused in the durable
   * event log. With it, a step caught in flight by a crash is resolved: its
   * events were persisted (it happened) or not (it did not). Without it,
   * such a saga is left `failed_compensation` for an operator.
   */
  findEvents?: (reqId: string) => Promise<BusEvent[]>;
  now?: () => string;
  onWarning?: (message: string, err?: unknown) => void;
}

export interface RecoveryReport {
  sagaId: number;
  name: string;
  state: "compensated" | "failed_compensation";
  reason: string;
  /** Problems met: a step with no inverse, a corrupt step, a refused inverse, an unknown in-flight step. */
  problems: string[];
}

function parseEvents(json: string | null): BusEvent[] | undefined {
  try {
    const value = JSON.parse(json ?? "null");
    return Array.isArray(value) ? (value as BusEvent[]) : undefined;
  } catch {
    return undefined;
  }
}

function parseStepCommand(step: StepRow): Command | undefined {
  try {
    const r = parseCommand(JSON.parse(step.cmd_json));
    return r.ok ? r.value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Boot-time recovery, before srv accepts connections: every saga a crash
 * (or a timeout) left `running`, `compensating` or `failed` is undone.
 * Steps already compensated are never undone again, so running recovery
 * twice (or being killed during it) never re-applies an inverse.
 */
export async function compensateUnresolved(options: RecoveryOptions): Promise<RecoveryReport[]> {
  const now = options.now ?? (() => new Date().toISOString());
  const j = new SagaJournal(options.log, options.dispatch, now, options.onWarning ?? (() => {}));
  const reports: RecoveryReport[] = [];
  let sagas: Awaited<ReturnType<SagaLog["unresolved"]>>;
  try {
    sagas = await options.log.unresolved();
  } catch (err) {
    j.warn("saga recovery: could not read the journal", err);
    return reports;
  }
  for (const saga of sagas) {
    const report = (state: RecoveryReport["state"], reason: string, problems: string[]) => {
      reports.push({ sagaId: saga.saga_id, name: saga.name, state, reason, problems });
      return j.record("state", j.log.setState(saga.saga_id, state, now(), reason));
    };
    await j.record("state", j.log.setState(saga.saga_id, "compensating", now()));
    let steps = await j.log.steps(saga.saga_id);

    // 1. Resolve steps caught in flight.
    const inFlight = steps.filter((s) => s.state === "pending");
    if (inFlight.length > 0 && options.findEvents === undefined) {
      const which = inFlight.map((s) => `${s.step_index} (${s.name})`).join(", ");
      await report("failed_compensation", `step ${which} was in flight; its effect is unknown`, [
        `in-flight step ${which}`,
      ]);
      continue;
    }
    for (const s of inFlight) {
      const events = await (options.findEvents as NonNullable<RecoveryOptions["findEvents"]>)(
        stepReqId(saga.saga_id, s.step_index),
      );
      if (events.length === 0) {
        await j.log.finish(
          saga.saga_id,
          s.step_index,
          "failed",
          { error: "never applied (no events in the log)" },
          now(),
        );
      } else if (s.compensates === null) {
        await j.log.finish(saga.saga_id, s.step_index, "succeeded", events, now());
      } else {
        await j.log.finish(saga.saga_id, s.step_index, "compensated", events, now());
        await j.log.markCompensated(saga.saga_id, s.compensates);
      }
    }
    if (inFlight.length > 0) steps = await j.log.steps(saga.saga_id);

    // 2. Undo what succeeded.
    const problems: string[] = [];
    const done: { index: number; cmd: Command; events: BusEvent[] }[] = [];
    for (const s of steps) {
      if (s.compensates !== null || s.state !== "succeeded") continue;
      const cmd = parseStepCommand(s);
      if (cmd === undefined) {
        problems.push(`step ${s.step_index} (${s.name}): corrupt command, skipped`);
        continue;
      }
      done.push({ index: s.step_index, cmd, events: parseEvents(s.output_json) ?? [] });
    }
    if (done.length === 0 && problems.length === 0) {
      await report("compensated", "no succeeded steps to undo", []);
      continue;
    }
    const nextIndex = steps.reduce((max, s) => Math.max(max, s.step_index), -1) + 1;
    problems.push(...(await j.undo(saga.saga_id, done, nextIndex)));
    if (problems.length === 0) await report("compensated", "undone on restart after an unfinished run", []);
    else await report("failed_compensation", problems.join("; "), problems);
  }
  return reports;
}
