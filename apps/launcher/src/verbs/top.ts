import { normalize } from "@agentmux/agent-controller/transcript";
import type { BusEvent } from "@agentmux/common-ipc";
import type { Fleet } from "../fleet.js";
import { agentTable, fleetOf } from "./agent.js";
import { type VerbContext, withClient } from "./common.js";

export const TOP_DEFAULTS = Object.freeze({
  /** Redraws at most this often, however busy the fleet is. */
  frameMs: 500,
});

const CLEAR = "\x1b[H\x1b[2J";

/**
 * A live view of every agent (status, session, tokens, cost, last line), redrawn in place as
 * srv's events arrive, until interrupted. `--json` prints one snapshot of the fleet per frame.
 */
export async function top(ctx: VerbContext): Promise<void> {
  await withClient(ctx, async (client) => {
    // Live events that arrive while the list is read wait, then apply after it (those it already reflects are skipped).
    let fleet: Fleet | undefined;
    const early: BusEvent[] = [];
    let dirty = true;
    client.on((ev) => {
      if (ev.version <= 0 || ev.event === "event_list" || ev.event === "agent_list") return;
      if (!fleet) early.push(ev as BusEvent);
      else {
        fleet.apply(ev as BusEvent);
        if (ev.event === "block_created" || ev.event === "block_meta_updated") follow();
      }
      dirty = true;
    });
    const live = await fleetOf(client);
    for (const ev of early) live.apply(ev);
    fleet = live;
    // The last line each agent said (its message text), from its transcript pushes.
    const lastLine = new Map<string, string>();
    const partial = new Map<string, string>();
    // Transcript pushes of every agent, those created while top runs included.
    let followed = "";
    function follow(): void {
      const ids = live.agents().map((a) => a.blockId);
      if (ids.join() === followed) return;
      followed = ids.join();
      client.send({ cmd: "subscribe_output", block_ids: ids });
    }
    client.on((ev) => {
      const provider = ev.event === "block_output" ? live.provider(ev.block_id) : undefined;
      if (ev.event !== "block_output" || provider === undefined) return;
      const lines = ((partial.get(ev.block_id) ?? "") + ev.data).split("\n");
      partial.set(ev.block_id, lines.pop() ?? "");
      for (const event of lines.flatMap((line) => normalize(provider, line))) {
        if (event.type !== "text" || event.preview) continue;
        const said = event.text.split("\n").findLast((l) => l.trim() !== "");
        if (said) lastLine.set(ev.block_id, said.slice(0, 100));
      }
      dirty = true;
    });
    follow();
    await new Promise<void>((resolve) => {
      const stop = () => {
        clearInterval(timer);
        resolve();
      };
      const draw = () => {
        if (!dirty) return;
        dirty = false;
        const agents = live.agents();
        if (ctx.json) {
          ctx.out(JSON.stringify(agents));
          return;
        }
        const last = agents
          .filter((a) => lastLine.has(a.blockId))
          .map((a) => `  ${a.name ?? a.blockId.slice(0, 8)}: ${lastLine.get(a.blockId)}`);
        const head = `agentmux top — ${agents.length} agents, ${new Date().toLocaleTimeString()} (Ctrl-C quits)`;
        const tail = last.length > 0 ? `\n\nlast lines:\n${last.join("\n")}` : "";
        ctx.out(`${CLEAR}${head}\n\n${agentTable(agents)}${tail}`);
      };
      const timer = setInterval(draw, TOP_DEFAULTS.frameMs);
      draw();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
  });
}
