import {
  type BusEvent,
  type Command,
  type CommandInput,
  type CommandOf,
  type Event,
  errorEvent,
} from "@agentmux/common-ipc";
import type { SagaDefinition, SagaLog } from "@agentmux/saga";
import { SagaRunner } from "@agentmux/saga";
import type { Logger } from "pino";
import { type Dispatcher, SRV_ORIGIN } from "./dispatcher.js";

type SagaCommand = CommandOf<"tear_off_tab" | "tear_off_block" | "promote_block_to_tab">;

export interface SagaRun {
  /** Every event the saga caused: saga_started, each step's events, saga_completed or saga_failed. */
  events: BusEvent[];
  /** A private error when the saga could not even start (e.g. the block does not exist). */
  refusal?: Event;
}

function created<E extends BusEvent["event"]>(events: readonly BusEvent[] | undefined, kind: E) {
  const ev = events?.find((e) => e.event === kind);
  if (!ev) throw new Error(`expected a ${kind} event`);
  return ev as Extract<BusEvent, { event: E }>;
}

/** The last step of the block sagas: move the block into the tab an earlier step created. */
function moveBlockInto(blockId: string, srcTabId: string, tabStep: readonly BusEvent[] | undefined): CommandInput {
  const dst = created(tabStep, "tab_created").tab_id;
  return { cmd: "move_block", block_id: blockId, src_tab_id: srcTabId, dst_tab_id: dst, dst_index: 0 };
}

export interface SagasOptions {
  dispatcher: Dispatcher;
  log: SagaLog;
  logger: Logger;
  /**
   * Fault injection for crash tests: a saga step that would dispatch this command
   * parks forever instead, after `onHold` was told (so a test can SIGKILL srv at
   * a known point).
   */
  hold?: { command: string; onHold: () => void };
}

/**
 * The multi-step operations srv offers as commands, run with the saga
 * package through the same dispatcher as everything else. Runs are
 * serialised, so two sagas never interleave on the same objects.
 */
export class Sagas {
  #chain: Promise<unknown> = Promise.resolve();
  #collect: BusEvent[] | undefined;
  #reqId: string | undefined;

  readonly #dispatcher: Dispatcher;
  #runner: SagaRunner | undefined;

  private constructor(dispatcher: Dispatcher) {
    this.#dispatcher = dispatcher;
  }

  static async create(options: SagasOptions): Promise<Sagas> {
    const { dispatcher, hold } = options;
    const sagas = new Sagas(dispatcher);
    sagas.#runner = await SagaRunner.create({
      log: options.log,
      dispatch: async (cmd) => {
        if (hold !== undefined && cmd.cmd === hold.command) {
          hold.onHold();
          return new Promise<never>(() => {});
        }
        const events = await dispatcher.submit(cmd, SRV_ORIGIN);
        sagas.#collect?.push(...events);
        return events;
      },
      publish: async (draft) => {
        const events = await dispatcher.emit([draft], sagas.#reqId);
        sagas.#collect?.push(...events);
      },
      onWarning: (message, err) => options.logger.warn({ err }, message),
    });
    return sagas;
  }

  /** Runs a saga command to its end. */
  run(cmd: Command): Promise<SagaRun> {
    const next = this.#chain.then(() => this.#run(cmd as SagaCommand));
    this.#chain = next.catch(() => {});
    return next;
  }

  async #run(cmd: SagaCommand): Promise<SagaRun> {
    const def = this.#define(cmd);
    if ("refusal" in def)
      return { events: [], refusal: errorEvent("invalid_command", def.refusal, { reqId: cmd.req_id }) };
    this.#collect = [];
    this.#reqId = cmd.req_id;
    try {
      await (this.#runner as SagaRunner).run(def, cmd);
      return { events: this.#collect };
    } finally {
      this.#collect = undefined;
      this.#reqId = undefined;
    }
  }

  #define(cmd: SagaCommand): SagaDefinition | { refusal: string } {
    const state = this.#dispatcher.state;
    switch (cmd.cmd) {
      case "tear_off_tab": {
        const tab = state.tabs.get(cmd.tab_id);
        if (!tab) return { refusal: `tear_off_tab: tab not found: ${cmd.tab_id}` };
        if ((state.workspaces.get(tab.workspaceId)?.tabIds.length ?? 0) < 2) {
          return { refusal: "tear_off_tab: the workspace's only tab cannot be torn off" };
        }
        const src = tab.workspaceId;
        return {
          name: "tear_off_tab",
          steps: [
            () => ({ cmd: "create_workspace", name: "" }),
            ([ws]) => ({
              cmd: "move_tab",
              tab_id: cmd.tab_id,
              src_workspace_id: src,
              dst_workspace_id: created(ws, "workspace_created").workspace_id,
              dst_index: 0,
            }),
          ],
        };
      }
      case "tear_off_block": {
        const tabId = state.blocks.get(cmd.block_id);
        if (tabId === undefined) return { refusal: `tear_off_block: block not found: ${cmd.block_id}` };
        return {
          name: "tear_off_block",
          steps: [
            () => ({ cmd: "create_workspace", name: "" }),
            ([ws]) => ({ cmd: "create_tab", workspace_id: created(ws, "workspace_created").workspace_id, name: "" }),
            ([, tab]) => moveBlockInto(cmd.block_id, tabId, tab),
          ],
        };
      }
      case "promote_block_to_tab": {
        const tabId = state.blocks.get(cmd.block_id);
        const workspaceId = tabId === undefined ? undefined : state.tabs.get(tabId)?.workspaceId;
        if (tabId === undefined || workspaceId === undefined) {
          return { refusal: `promote_block_to_tab: block not found: ${cmd.block_id}` };
        }
        return {
          name: "promote_block_to_tab",
          steps: [
            () => ({ cmd: "create_tab", workspace_id: workspaceId, name: "" }),
            ([tab]) => moveBlockInto(cmd.block_id, tabId, tab),
          ],
        };
      }
    }
  }
}
