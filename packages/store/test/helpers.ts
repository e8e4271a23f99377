// Helpers for this package's tests only; what other suites share (temp dirs, polling) is in
// @agentmux/testkit.
import { type BusEvent, type CommandInput, parseCommand } from "@agentmux/common-ipc";
import { type DecideContext, decide, evolve, initialState, type ReducerState } from "@agentmux/reducer";
import { tempDir } from "@agentmux/testkit";
import { openStore, type Store } from "../src/index.js";

/** A migrated store in `dataDir` (default a new temp dir, removed after the test). */
export async function freshStore(dataDir = tempDir("agentmux-store-")): Promise<Store> {
  const store = await openStore({ dataDir });
  await store.migrate();
  return store;
}

/** Runs commands through the real reducer and persists each command's events through the store. */
export class Driver {
  state: ReducerState = initialState();
  private n = 0;
  readonly ctx: DecideContext = { now: "2026-11-21T00:00:00Z", newId: () => `id-${++this.n}`, registeredPid: 1 };

  constructor(readonly store: Store) {}

  decide(input: CommandInput): BusEvent[] {
    const parsed = parseCommand(input);
    if (!parsed.ok) throw parsed.error;
    const events = decide(this.state, parsed.value, this.ctx);
    for (const ev of events) evolve(this.state, ev);
    return events;
  }

  async run(input: CommandInput): Promise<BusEvent[]> {
    const events = this.decide(input);
    await this.store.objects.applyEvents(events);
    return events;
  }
}
