import { resolve } from "node:path";
import type { Event } from "@agentmux/common-ipc";
import type { SrvClient } from "../client.js";
import { EXIT, LauncherError } from "../errors.js";
import { type AgentView, Fleet } from "../fleet.js";
import { type Of, table, type VerbContext, withClient } from "./common.js";

/** The transcript renderer: loaded by the verbs that print a transcript only (`ls` does not). */
const render = () => import("../render.js");

async function agents(client: SrvClient): Promise<AgentView[]> {
  return (await fleetOf(client)).agents();
}

/** The fleet as srv sees it now (one `list_agents` round trip). */
export async function fleetOf(client: SrvClient): Promise<Fleet> {
  return Fleet.of((await client.call({ cmd: "list_agents" }, (e) => e.event === "agent_list")) as Of<"agent_list">);
}

async function agentNamed(client: SrvClient, name: string): Promise<AgentView> {
  const all = await agents(client);
  const matches = all.filter((a) => a.name === name || a.blockId === name);
  // Names are unique per workspace: the same name in two workspaces needs the block id.
  if (matches.length > 1)
    throw new LauncherError(
      "srv_error",
      `"${name}" names ${matches.length} agents (one per workspace); use a block id: ${matches.map((a) => a.blockId).join(", ")}`,
    );
  const found = matches[0];
  if (!found) {
    const names = all.map((a) => a.name ?? a.blockId).join(", ") || "none yet";
    throw new LauncherError(
      "srv_error",
      `no agent named "${name}" (agents: ${names}); create one with: agentmux agent new`,
      EXIT.failed,
    );
  }
  return found;
}

export interface NewAgentOptions {
  name: string;
  cwd?: string;
  workspace?: string;
  command?: string;
  args: string[];
}

export async function agentNew(ctx: VerbContext, provider: string, options: NewAgentOptions): Promise<void> {
  await withClient(ctx, async (client) => {
    const snap = (await client.call(
      { cmd: "get_srv_snapshot" },
      (e) => e.event === "srv_snapshot",
    )) as Of<"srv_snapshot">;
    const workspace = options.workspace
      ? snap.workspaces.find(([id, name]) => id === options.workspace || name === options.workspace)
      : snap.workspaces[0];
    if (!workspace) throw new LauncherError("srv_error", `no workspace "${options.workspace}"`);
    const tabId =
      snap.active_tabs.find(([ws]) => ws === workspace[0])?.[1] ?? snap.tabs.find(([, ws]) => ws === workspace[0])?.[0];
    if (!tabId) throw new LauncherError("srv_error", `workspace "${workspace[1]}" has no tab`);
    const cwd = options.cwd?.startsWith("~") ? options.cwd : resolve(options.cwd ?? process.cwd());
    const meta: Record<string, string | string[]> = {
      view: "agent",
      "agent:provider": provider,
      "agent:cwd": cwd,
      "agent:name": options.name,
    };
    if (options.command) meta["agent:command"] = options.command;
    if (options.args.length > 0) meta["agent:args"] = options.args;
    // The agent gets a tile in its tab's layout, in the same command (the dashboard draws tabs as tiles).
    const created = (await client.call({ cmd: "create_block", tab_id: tabId, meta, tile: {} })) as Event;
    if (created.event !== "block_created") throw new LauncherError("srv_error", `srv answered ${created.event}`);
    ctx.out(
      ctx.json
        ? JSON.stringify({ name: options.name, block_id: created.block_id })
        : `agent ${options.name} created (${provider}, ${cwd})`,
    );
  });
}

export async function agentLs(ctx: VerbContext): Promise<void> {
  await withClient(ctx, async (client) => {
    const list = await agents(client);
    if (ctx.json) return ctx.out(JSON.stringify(list));
    ctx.out(agentTable(list));
  });
}

export async function agentSend(ctx: VerbContext, name: string, message: string, wait: boolean): Promise<void> {
  await withClient(ctx, async (client) => {
    const [agent, { TranscriptPrinter }] = await Promise.all([agentNamed(client, name), render()]);
    const printer = new TranscriptPrinter(agent.provider, ctx.json, ctx.out);
    if (!wait) {
      await client.call({ cmd: "agent_send", block_id: agent.blockId, message });
      return ctx.out(ctx.json ? JSON.stringify({ sent: true }) : `sent to ${name}`);
    }
    let sawTurn = false;
    const done = client.until((ev): Of<"agent_status"> | undefined => {
      if (ev.event === "block_output" && ev.block_id === agent.blockId) printer.push(ev.data);
      if (ev.event !== "agent_status" || ev.block_id !== agent.blockId) return undefined;
      // The turn ends when a turn that ran is over, or fails (a start that failed, a turn that did).
      if (ev.turn_active) sawTurn = true;
      else if (sawTurn || ev.fault !== null) return ev;
      return undefined;
    });
    // Handled here too: if the send itself is refused, nobody awaits the turn it never started.
    done.catch(() => {});
    client.send({ cmd: "subscribe_output", block_ids: [agent.blockId] });
    await client.call({ cmd: "agent_send", block_id: agent.blockId, message });
    const end = await done;
    printer.end();
    if (end.fault)
      throw new LauncherError(
        "srv_error",
        `${name}: ${end.fault.message}${(end.fault.stderr ?? []).map((l) => `\n  ${l}`).join("")}`,
      );
  });
}

export async function agentLogs(
  ctx: VerbContext,
  name: string,
  follow: boolean,
  since: number,
  raw: boolean,
): Promise<void> {
  await withClient(ctx, async (client) => {
    const [agent, { TranscriptPrinter }] = await Promise.all([agentNamed(client, name), render()]);
    const printer = new TranscriptPrinter(agent.provider, ctx.json, ctx.out, raw);
    let offset = since;
    let live: Of<"block_output">[] | undefined;
    if (follow) {
      live = [];
      const pending = live;
      client.on((ev) => {
        if (ev.event === "block_output" && ev.block_id === agent.blockId) pending.push(ev);
      });
      client.send({ cmd: "subscribe_output", block_ids: [agent.blockId] });
    }
    for (;;) {
      const page = (await client.call({
        cmd: "get_block_output",
        block_id: agent.blockId,
        offset,
        limit: 1024 * 1024,
      })) as Event;
      if (page.event !== "block_output" || page.data === "") break;
      printer.push(page.data);
      offset = page.offset + Buffer.byteLength(page.data);
    }
    if (!follow || live === undefined) return printer.end();
    // Live pushes from where the catch-up ended (pushes overlapping it are skipped by offset).
    const queue = live;
    client.on((ev) => {
      if (ev.event !== "block_output" || ev.block_id !== agent.blockId) return;
      queue.length = 0;
      if (ev.offset + Buffer.byteLength(ev.data) <= offset) return;
      const skip = Math.max(0, offset - ev.offset);
      printer.push(Buffer.from(ev.data).subarray(skip).toString("utf8"));
      offset = ev.offset + Buffer.byteLength(ev.data);
    });
    for (const ev of queue.splice(0)) if (ev.offset >= offset) printer.push(ev.data);
    await new Promise<void>((r) => {
      const stop = () => r();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    printer.end();
  });
}

export async function agentControl(
  ctx: VerbContext,
  name: string,
  action: "stop" | "interrupt",
  force = false,
): Promise<void> {
  await withClient(ctx, async (client) => {
    const agent = await agentNamed(client, name);
    const cmd =
      action === "stop"
        ? ({ cmd: "agent_stop", block_id: agent.blockId, force } as const)
        : ({ cmd: "agent_interrupt", block_id: agent.blockId } as const);
    await client.call(cmd);
    ctx.out(ctx.json ? JSON.stringify({ ok: true }) : `${name}: ${action === "stop" ? "stopped" : "interrupted"}`);
  });
}

export async function agentRm(ctx: VerbContext, name: string): Promise<void> {
  await withClient(ctx, async (client) => {
    const agent = await agentNamed(client, name);
    await client.call({ cmd: "delete_block", tab_id: agent.tabId, block_id: agent.blockId });
    ctx.out(ctx.json ? JSON.stringify({ removed: name }) : `${name}: removed`);
  });
}

/** The agents as a table (or what to do when there are none). */
export function agentTable(list: readonly AgentView[]): string {
  if (list.length === 0) return "no agents yet; create one with: agentmux agent new claude --name alice --cwd .";
  const rows = list.map((a) => [
    a.name ?? a.blockId.slice(0, 8),
    a.provider,
    a.status,
    a.sessionId?.slice(0, 8) ?? "-",
    `${a.tokensIn}/${a.tokensOut}`,
    `$${a.costUsd.toFixed(4)}`,
    a.cwd,
  ]);
  return table([["NAME", "PROVIDER", "STATUS", "SESSION", "TOKENS IN/OUT", "COST", "CWD"], ...rows]);
}

/** Answers the agent's permission request (the only one pending, or the one named). */
export async function agentRespond(
  ctx: VerbContext,
  name: string,
  decision: "allow" | "deny",
  requestId: string | undefined,
  message: string | undefined,
): Promise<void> {
  await withClient(ctx, async (client) => {
    const agent = await agentNamed(client, name);
    const pending = agent.requests;
    const request = requestId ?? (pending.length === 1 ? pending[0]?.id : undefined);
    if (request === undefined) {
      throw new LauncherError(
        "srv_error",
        pending.length === 0
          ? `${name} is not waiting on any request`
          : `${name} is waiting on ${pending.length} requests; name one: ${pending.map((r) => `${r.id} (${r.tool})`).join(", ")}`,
      );
    }
    await client.call({
      cmd: "agent_respond",
      block_id: agent.blockId,
      request_id: request,
      decision,
      ...(message ? { message } : {}),
    });
    ctx.out(
      ctx.json
        ? JSON.stringify({ request_id: request, decision })
        : `${name}: ${decision === "allow" ? "approved" : "denied"} ${request}`,
    );
  });
}
