// Builds reducer events for benchmarks: the real reducer over a deterministic id source.
import { type BusEvent, type CommandInput, parseCommand } from "@agentmux/common-ipc";
import { decide, evolve, initialState, type ReducerState } from "@agentmux/reducer";

export class EventSource {
  state: ReducerState = initialState();
  #n = 0;
  readonly #ctx = { now: "2026-11-21T00:00:00Z", newId: () => `id-${++this.#n}`, registeredPid: null };

  run(input: CommandInput): BusEvent[] {
    const r = parseCommand(input);
    if (!r.ok) throw r.error;
    const events = decide(this.state, r.value, this.#ctx);
    for (const ev of events) evolve(this.state, ev);
    return events;
  }

  /** A workspace with `tabs` tabs; returns the tab ids. */
  workspace(tabs: number): string[] {
    const [ws] = this.run({ cmd: "create_workspace", name: "bench" });
    if (ws?.event !== "workspace_created") throw new Error("setup");
    const ids: string[] = [];
    for (let i = 0; i < tabs; i++) {
      const [t] = this.run({ cmd: "create_tab", workspace_id: ws.workspace_id, name: "" });
      if (t?.event !== "tab_created") throw new Error("setup");
      ids.push(t.tab_id);
    }
    return ids;
  }
}
