import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BusEvent, type CommandInput, parseCommand } from "@agentmux/common-ipc";
import { type DecideContext, decide, evolve, initialState, type ReducerState } from "@agentmux/reducer";
import { afterEach } from "vitest";
import { openStore, type Store } from "../src/index.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "agentmux-store-"));
  dirs.push(d);
  return d;
}

export async function freshStore(dataDir = tempDir()): Promise<Store> {
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
