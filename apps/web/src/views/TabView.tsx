// A tab as srv lays it out: rows and columns of tiles with their flex sizes, live, resizable.
import type { LayoutNode } from "@agentmux/common-ipc";
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { metaString, statusClass, statusWord } from "../lib/agents.js";
import { blockOf, findNode, isLeaf, type TabLayout } from "../lib/layout.js";
import { agentHref } from "../lib/route.js";
import type { Store } from "../lib/store.js";
import { useStore } from "../lib/use-store.js";

/** A keyboard step on a divider, in flex weight (sizes are weights in [0, 100]). */
const STEP = 5;
const MIN = 0;
const MAX = 100;

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Moves `delta` of weight from `b` to `a`, keeping their sum (so other siblings keep their share). */
export function shifted(a: number, b: number, delta: number): [number, number] {
  const total = a + b;
  let na = Math.min(MAX, Math.max(MIN, a + delta));
  let nb = total - na;
  if (nb > MAX) {
    nb = MAX;
    na = total - nb;
  }
  if (nb < MIN) {
    nb = MIN;
    na = total;
  }
  return [round(na), round(nb)];
}

interface Ctx {
  store: Store;
  tabId: string;
  layout: TabLayout;
}

function Tile({ node, ctx }: { node: LayoutNode; ctx: Ctx }) {
  const blockId = blockOf(node);
  const agent = blockId ? ctx.store.agents.get(blockId) : undefined;
  const focused = ctx.layout.focusedNodeId === node.id;
  let body: ComponentChildren;
  if (agent && blockId) {
    const word = statusWord(ctx.store.statuses.get(blockId)?.status, agent.meta);
    body = (
      <>
        <a href={agentHref(blockId)} class="tile-name">
          {metaString(agent.meta, "agent:name") ?? `agent ${blockId.slice(0, 8)}`}
        </a>
        <span class={statusClass(word)}>{word}</span>
      </>
    );
  } else body = <span class="muted">{blockId ? `block ${blockId.slice(0, 8)}` : "empty tile"}</span>;
  return (
    <div class={focused ? "tile focused" : "tile"} data-testid="tile" data-node-id={node.id}>
      {body}
      {agent ? <SplitForm node={node} meta={agent.meta} ctx={ctx} /> : null}
      {focused ? <span class="badge">focused</span> : null}
      {ctx.layout.magnifiedNodeId === node.id ? <span class="badge">magnified</span> : null}
    </div>
  );
}

function Divider({ a, b, row, ctx }: { a: LayoutNode; b: LayoutNode; row: boolean; ctx: Ctx }) {
  const drag = useRef<{ start: number; px: number; a: number; b: number; last: [number, number] } | null>(null);
  const send = (sizes: [number, number]) => {
    ctx.store
      .resize(ctx.tabId, [
        { node_id: a.id, size: sizes[0] },
        { node_id: b.id, size: sizes[1] },
      ])
      .catch(() => undefined);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    // Right/Down give the first tile more room, Left/Up less, whichever way the split runs.
    const delta =
      e.key === "ArrowRight" || e.key === "ArrowDown" ? STEP : e.key === "ArrowLeft" || e.key === "ArrowUp" ? -STEP : 0;
    if (delta === 0) return;
    e.preventDefault();
    send(shifted(a.size, b.size, delta));
  };
  const onPointerDown = (e: PointerEvent) => {
    const el = e.currentTarget as HTMLElement;
    const before = el.previousElementSibling?.getBoundingClientRect();
    const after = el.nextElementSibling?.getBoundingClientRect();
    if (!before || !after) return;
    e.preventDefault();
    el.setPointerCapture(e.pointerId);
    drag.current = {
      start: row ? e.clientX : e.clientY,
      px: row ? before.width + after.width : before.height + after.height,
      a: a.size,
      b: b.size,
      last: [a.size, b.size],
    };
  };
  const onPointerMove = (e: PointerEvent) => {
    const d = drag.current;
    if (!d || d.px <= 0) return;
    const moved = (row ? e.clientX : e.clientY) - d.start;
    d.last = shifted(d.a, d.b, (moved / d.px) * (d.a + d.b));
    ctx.store.previewResize(ctx.tabId, [
      { node_id: a.id, size: d.last[0] },
      { node_id: b.id, size: d.last[1] },
    ]);
  };
  const onPointerUp = () => {
    const d = drag.current;
    drag.current = null;
    if (d && (d.last[0] !== d.a || d.last[1] !== d.b)) send(d.last);
  };
  const share = a.size + b.size > 0 ? Math.round((a.size / (a.size + b.size)) * 100) : 50;
  return (
    // biome-ignore lint/a11y/useSemanticElements: an <hr> cannot be focused and dragged; a focusable separator is the ARIA pattern for a splitter
    <div
      class={row ? "divider divider-v" : "divider divider-h"}
      data-testid="divider"
      role="separator"
      tabIndex={0}
      aria-orientation={row ? "vertical" : "horizontal"}
      aria-valuenow={share}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-label={`Resize: ${row ? "left and right" : "upper and lower"} tiles (arrow keys)`}
      onKeyDown={onKeyDown}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
    />
  );
}

/**
 * Splits a tile to hold a new agent: the agent block first, then its tile beside (or below) this
 * one. Two commands: if the split is refused, the new agent still gets a tile by a plain insert,
 * so it is never left without one.
 */
function SplitForm({ node, meta, ctx }: { node: LayoutNode; meta: Record<string, unknown>; ctx: Ctx }) {
  const [name, setName] = useState("");
  const [cwd, setCwd] = useState(metaString(meta, "agent:cwd") ?? "");
  const [below, setBelow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = (what: string) => `split-${what}-${node.id}`;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const agentMeta: Record<string, string> = {
      view: "agent",
      "agent:provider": metaString(meta, "agent:provider") ?? "claude",
      "agent:cwd": cwd.trim(),
    };
    if (name.trim() !== "") agentMeta["agent:name"] = name.trim();
    try {
      const [created] = await ctx.store.request(
        { cmd: "create_block", tab_id: ctx.tabId, meta: agentMeta },
        { done: (ev) => ev.event === "block_created" },
      );
      if (created?.event !== "block_created") return;
      const leaf: LayoutNode = {
        id: crypto.randomUUID(),
        flexDirection: "row",
        size: 10,
        data: { blockId: created.block_id },
      };
      const split = {
        tab_id: ctx.tabId,
        target_id: node.id,
        new_node: leaf,
        position: "after" as const,
        focus_after: true,
      };
      await ctx.store
        .request({ cmd: below ? "layout_split_vertical" : "layout_split_horizontal", ...split })
        .catch(async (err: Error) => {
          await ctx.store.request({
            cmd: "layout_insert_node",
            tab_id: ctx.tabId,
            node: leaf,
            focus_after: true,
            magnify_after: false,
          });
          throw err;
        });
      setName("");
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const label = metaString(meta, "agent:name") ?? node.id;
  return (
    <details class="tile-split">
      <summary>
        Split<span class="sr-only"> {label}</span>
      </summary>
      <form onSubmit={submit}>
        <label for={id("name")}>New agent's name</label>
        <input id={id("name")} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        <label for={id("cwd")}>Its working directory</label>
        <input id={id("cwd")} value={cwd} onInput={(e) => setCwd((e.currentTarget as HTMLInputElement).value)} />
        <label>
          <input
            type="checkbox"
            checked={below}
            onChange={(e) => setBelow((e.currentTarget as HTMLInputElement).checked)}
          />{" "}
          Below (else beside)
        </label>
        <button type="submit" disabled={busy}>
          Create agent here
        </button>
        {error ? <p role="alert">{error}</p> : null}
      </form>
    </details>
  );
}

function NodeView({ node, ctx }: { node: LayoutNode; ctx: Ctx }) {
  if (isLeaf(node)) return <Tile node={node} ctx={ctx} />;
  const row = node.flexDirection !== "column";
  const kids = node.children ?? [];
  const parts: ComponentChildren[] = [];
  kids.forEach((kid, i) => {
    const prev = kids[i - 1];
    if (prev) parts.push(<Divider key={`d:${prev.id}:${kid.id}`} a={prev} b={kid} row={row} ctx={ctx} />);
    parts.push(
      // The flex weight is set through the DOM style property (allowed by the page's CSP).
      <div key={kid.id} class="cell" style={{ flex: `${kid.size} 1 0px` }}>
        <NodeView node={kid} ctx={ctx} />
      </div>,
    );
  });
  return <div class={row ? "split split-row" : "split split-column"}>{parts}</div>;
}

export function TabView({ tabId }: { tabId: string }) {
  const store = useStore();
  useEffect(() => {
    store.watchTab(tabId);
    return () => store.unwatchTab(tabId);
  }, [store, tabId]);
  const layout = store.layouts.get(tabId);
  const tab = store.tabs.get(tabId);
  const workspace = tab ? store.workspaces.get(tab.workspaceId) : undefined;
  let body: ComponentChildren;
  if (!layout?.loaded) body = <p class="muted">Loading the layout…</p>;
  else if (layout.tree === null) body = <p class="muted">This tab has no tiles.</p>;
  else {
    const magnified = layout.magnifiedNodeId ? findNode(layout.tree, layout.magnifiedNodeId) : undefined;
    body = (
      <>
        {magnified ? <p class="muted">One tile is magnified: it is shown alone.</p> : null}
        <div class="tiles">
          <NodeView node={magnified ?? layout.tree} ctx={{ store, tabId, layout }} />
        </div>
      </>
    );
  }
  return (
    <>
      <h1 id="view-title" tabIndex={-1}>
        {tab?.name || `Tab ${tabId}`}
      </h1>
      {workspace ? <p class="muted">Workspace {workspace}</p> : null}
      {body}
    </>
  );
}
