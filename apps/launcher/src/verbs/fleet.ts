import type { BusEvent } from "@agentmux/common-ipc";
import type { SrvClient } from "../client.js";
import { LauncherError } from "../errors.js";
import { type Of, table, type VerbContext, withClient } from "./common.js";

async function snapshot(client: SrvClient): Promise<Of<"srv_snapshot">> {
  return (await client.call({ cmd: "get_srv_snapshot" }, (e) => e.event === "srv_snapshot")) as Of<"srv_snapshot">;
}

/** A workspace by id or name. */
function workspaceOf(snap: Of<"srv_snapshot">, which: string | undefined): [string, string] {
  const found =
    which === undefined ? snap.workspaces[0] : snap.workspaces.find(([id, name]) => id === which || name === which);
  if (!found) throw new LauncherError("srv_error", `no workspace "${which}" (see: agentmux workspace ls)`);
  return found;
}

export async function workspaceLs(ctx: VerbContext): Promise<void> {
  await withClient(ctx, async (client) => {
    const snap = await snapshot(client);
    const rows = snap.workspaces.map(([id, name]) => ({
      id,
      name,
      tabs: snap.tabs.filter(([, ws]) => ws === id).length,
    }));
    if (ctx.json) return ctx.out(JSON.stringify(rows));
    ctx.out(table([["NAME", "TABS", "ID"], ...rows.map((r) => [r.name, String(r.tabs), r.id])]));
  });
}

export async function workspaceNew(ctx: VerbContext, name: string): Promise<void> {
  await withClient(ctx, async (client) => {
    const ev = (await client.call({ cmd: "create_workspace", name })) as Of<"workspace_created">;
    ctx.out(ctx.json ? JSON.stringify({ workspace_id: ev.workspace_id }) : `workspace ${name} created`);
  });
}

export async function workspaceRm(ctx: VerbContext, which: string, force: boolean): Promise<void> {
  await withClient(ctx, async (client) => {
    const [id, name] = workspaceOf(await snapshot(client), which);
    await client.call(
      { cmd: "delete_workspace", workspace_id: id, force },
      (e) => e.event === "workspace_deleted" && e.workspace_id === id,
    );
    ctx.out(ctx.json ? JSON.stringify({ removed: id }) : `workspace ${name} removed (its agents stopped)`);
  });
}

export async function tabLs(ctx: VerbContext, workspace: string | undefined): Promise<void> {
  await withClient(ctx, async (client) => {
    const snap = await snapshot(client);
    const wanted = workspace === undefined ? undefined : workspaceOf(snap, workspace)[0];
    const names = new Map(snap.workspaces);
    const rows = snap.tabs
      .filter(([, ws]) => wanted === undefined || ws === wanted)
      .map(([id, ws, name]) => ({
        id,
        name,
        workspace: names.get(ws) ?? ws,
        blocks: snap.blocks.filter(([, t]) => t === id).length,
      }));
    if (ctx.json) return ctx.out(JSON.stringify(rows));
    ctx.out(
      table([["NAME", "WORKSPACE", "BLOCKS", "ID"], ...rows.map((r) => [r.name, r.workspace, String(r.blocks), r.id])]),
    );
  });
}

export async function tabNew(ctx: VerbContext, name: string, workspace: string | undefined): Promise<void> {
  await withClient(ctx, async (client) => {
    const [wsId] = workspaceOf(await snapshot(client), workspace);
    const ev = (await client.call({ cmd: "create_tab", workspace_id: wsId, name })) as Of<"tab_created">;
    ctx.out(ctx.json ? JSON.stringify({ tab_id: ev.tab_id }) : `tab ${ev.name} created`);
  });
}

export async function tabRm(
  ctx: VerbContext,
  which: string,
  workspace: string | undefined,
  force: boolean,
): Promise<void> {
  await withClient(ctx, async (client) => {
    const snap = await snapshot(client);
    const wanted = workspace === undefined ? undefined : workspaceOf(snap, workspace)[0];
    const tab = snap.tabs.find(
      ([id, ws, name]) => (id === which || name === which) && (wanted === undefined || ws === wanted),
    );
    if (!tab) throw new LauncherError("srv_error", `no tab "${which}" (see: agentmux tab ls)`);
    const [tabId, wsId] = tab;
    await client.call(
      { cmd: "delete_tab", workspace_id: wsId, tab_id: tabId, force },
      (e) => e.event === "tab_deleted" && e.tab_id === tabId,
    );
    ctx.out(ctx.json ? JSON.stringify({ removed: tabId }) : `tab ${tab[2]} removed`);
  });
}

/** srv's events after `since` (one per line), then, with `follow`, every new one until interrupted. */
export async function events(ctx: VerbContext, since: number, follow: boolean): Promise<void> {
  await withClient(ctx, async (client) => {
    const show = (ev: BusEvent) => ctx.out(ctx.json ? JSON.stringify(ev) : `${ev.version}\t${ev.event}\t${brief(ev)}`);
    let last = since;
    const live: BusEvent[] = [];
    const off = follow
      ? client.on((ev) => ev.version > 0 && ev.event !== "event_list" && live.push(ev as BusEvent))
      : () => {};
    const { events: logged, truncated } = await client.history(since);
    if (truncated)
      process.stderr.write(`agentmux: srv no longer keeps every event after ${since}; the oldest are missing\n`);
    for (const ev of logged) {
      show(ev);
      last = ev.version;
    }
    if (!follow) return;
    off();
    for (const ev of live) if (ev.version > last) show(ev);
    client.on((ev) => {
      if (ev.version > last && ev.event !== "event_list") {
        last = ev.version;
        show(ev as BusEvent);
      }
    });
    await new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
  });
}

/** The event's fields other than its tag and version, compactly. */
function brief(ev: BusEvent): string {
  const { event: _e, version: _v, ...rest } = ev;
  const text = JSON.stringify(rest);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
