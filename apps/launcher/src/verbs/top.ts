import { normalize } from "@agentmux/agent-controller/transcript";
import type { BusEvent } from "@agentmux/common-ipc";
import { Fleet } from "../fleet.js";
import { agentTable } from "./agent.js";
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
    // Live events that arrive while the history is read wait, then apply after it.
    const fleet = new Fleet();
    let live: BusEvent[] | null = [];
    let dirty = true;
    client.on((ev) => {
      if (ev.version <= 0 || ev.event === "event_list") return;
      if (live) live.push(ev as BusEvent);
      else fleet.apply(ev as BusEvent);
      dirty = true;
    });
    const history = await client.history(0);
    const seen = history.at(-1)?.version ?? 0;
    for (const ev of history) fleet.apply(ev);
    for (const ev of live) if (ev.version > seen) fleet.apply(ev);
    live = null;
    // The last line each agent said (its message text), from its transcript pushes.
    const lastLine = new Map<string, string>();
    const partial = new Map<string, string>();
    const agentsNow = fleet.agents();
    const providers = new Map(agentsNow.map((a) => [a.blockId, a.provider]));
    client.on((ev) => {
      const provider = ev.event === "block_output" ? providers.get(ev.block_id) : undefined;
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
    client.send({ cmd: "subscribe_output", block_ids: agentsNow.map((a) => a.blockId) });
    await new Promise<void>((resolve) => {
      const stop = () => {
        clearInterval(timer);
        resolve();
      };
      const draw = () => {
        if (!dirty) return;
        dirty = false;
        const agents = fleet.agents();
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
