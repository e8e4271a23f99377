import { type BusEvent, type Command, type CommandInput, parseCommand } from "@agentmux/common-ipc";
import { checkInvariants, type DecideContext, decide, evolve, initialState, type ReducerState } from "../src/index.js";

export function command(input: CommandInput): Command {
  const r = parseCommand(input);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** A deterministic id source: `${prefix}1`, `${prefix}2`, … */
export function counterIds(prefix = "id"): () => string {
  let n = 0;
  return () => `${prefix}${++n}`;
}

/** Drives the reducer like srv's dispatcher: decide, then evolve each event; invariants checked after every command. */
export class Harness {
  state: ReducerState = initialState();
  readonly log: BusEvent[] = [];
  private readonly newId = counterIds();
  registeredPid: number | null = null;

  ctx(): DecideContext {
    return { now: "2026-11-21T00:00:00Z", newId: this.newId, registeredPid: this.registeredPid };
  }

  run(input: CommandInput): BusEvent[] {
    const events = decide(this.state, command(input), this.ctx());
    for (const ev of events) {
      evolve(this.state, ev);
      this.log.push(ev);
    }
    const problems = checkInvariants(this.state);
    if (problems.length > 0) throw new Error(`invariants broken after ${input.cmd}: ${problems.join("; ")}`);
    return events;
  }

  /** Runs a command expected to emit exactly one event of the given kind, and returns it. */
  one<E extends BusEvent["event"]>(input: CommandInput, kind: E): Extract<BusEvent, { event: E }> {
    const events = this.run(input);
    if (events.length !== 1 || events[0]?.event !== kind) {
      throw new Error(`expected one ${kind}, got ${JSON.stringify(events)}`);
    }
    return events[0] as Extract<BusEvent, { event: E }>;
  }

  workspace(name = "W"): string {
    return this.one({ cmd: "create_workspace", name }, "workspace_created").workspace_id;
  }

  tab(workspaceId: string, name = ""): string {
    const created = this.run({ cmd: "create_tab", workspace_id: workspaceId, name })[0];
    if (created?.event !== "tab_created") throw new Error(`create_tab failed: ${JSON.stringify(created)}`);
    return created.tab_id;
  }

  block(tabId: string): string {
    return this.one({ cmd: "create_block", tab_id: tabId }, "block_created").block_id;
  }

  tabsOf(workspaceId: string): string[] {
    return [...(this.state.workspaces.get(workspaceId)?.tabIds ?? [])];
  }

  activeOf(workspaceId: string): string | null | undefined {
    return this.state.workspaces.get(workspaceId)?.activeTabId;
  }
}

/** Freezes a state deeply, Maps included (their mutators throw). */
export function deepFreeze<T>(value: T): T {
  if (value instanceof Map) {
    for (const v of value.values()) deepFreeze(v);
    const refuse = () => {
      throw new TypeError("mutation of a frozen Map");
    };
    Object.defineProperties(value, { set: { value: refuse }, delete: { value: refuse }, clear: { value: refuse } });
    Object.freeze(value);
  } else if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
