import { layout, slicesOf } from "@agentmux/reducer";
import type { Logger } from "pino";
import { type Dispatcher, SRV_ORIGIN } from "./dispatcher.js";

/**
 * At boot, before serving: every tab's tree may show only blocks of that tab. The reducer keeps
 * that true for every command it decides, but a store written by an older build, or by another
 * program through `@agentmux/store`, may hold a tree with a tile for a block that is gone. Such
 * a tree is set again, through the dispatcher like any change (`layout_set_tree` prunes the dead
 * leaves and keeps the slices), so the fix is persisted, logged and broadcast, never written
 * behind the reducer's back. Returns the tabs healed.
 */
export async function healLayouts(dispatcher: Dispatcher, logger: Logger): Promise<string[]> {
  const healed: string[] = [];
  for (const [tabId, tab] of dispatcher.state.layouts) {
    const live = new Set(dispatcher.state.tabs.get(tabId)?.blockIds);
    const dead = layout.leafBlockIds(tab.tree).filter((b) => !live.has(b));
    if (dead.length === 0) continue;
    const cmd = {
      cmd: "layout_set_tree",
      tab_id: tabId,
      new_tree: tab.tree,
      slices: slicesOf(tab),
      correlation_id: "",
    } as const;
    const events = await dispatcher.submit(cmd, SRV_ORIGIN);
    const refused = events.find((e) => e.event === "error");
    if (refused === undefined) healed.push(tabId);
    logger.warn({ tab: tabId, dead_blocks: dead, refused }, "healed a tab layout that showed blocks no longer in it");
  }
  return healed;
}
