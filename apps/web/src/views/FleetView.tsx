// Every agent across workspaces, what needs a person first; the tabs; a form for a new agent.
import { useState } from "preact/hooks";
import {
  type AgentStatusData,
  metaString,
  type StatusWord,
  sessionOf,
  statusClass,
  statusRank,
  statusWord,
  usageOf,
} from "../lib/agents.js";
import { ago, formatCount, formatUsd } from "../lib/format.js";
import { askNotificationPermission, notificationPermission } from "../lib/notify.js";
import { agentHref } from "../lib/route.js";
import type { Store } from "../lib/store.js";
import { useNow, useStore } from "../lib/use-store.js";
import { NewAgentForm } from "./NewAgentForm.js";
import { WorkspaceTabs } from "./WorkspaceTabs.js";

interface Row {
  blockId: string;
  name: string | null;
  provider: string;
  word: StatusWord;
  session: string | null;
  tokens: number | null;
  cost: number | null;
  activity: number | null;
  lastLine: string | null;
}

/** Events looked at, from the end of an open feed, for its last text: the fleet stays cheap. */
const LAST_LOOKBACK = 200;

/**
 * The agent's last line, from what the page already holds (the fleet reads no transcript): what
 * it waits for or what went wrong, from its status; else the last text of the transcript the page
 * has open or had open.
 */
function lastLine(store: Store, blockId: string, status: AgentStatusData | null): string | null {
  const tool = status?.requests[0]?.tool;
  if (tool) return `Asks to use ${tool}`;
  if (status?.needs_input || status?.requests.length) return "Waits for input";
  if (status?.fault) return status.fault.message;
  const events = store.feeds.get(blockId)?.events;
  if (!events) return null;
  for (let i = events.length - 1; i >= Math.max(0, events.length - LAST_LOOKBACK); i--) {
    const e = events[i];
    // A streamed preview may be a fragment of a line: only whole messages count.
    if (e?.type === "text" && !e.preview) {
      const lines = e.text.trim().split("\n");
      const last = lines[lines.length - 1]?.trim();
      if (last) return last;
    }
  }
  return null;
}

function rows(store: Store): Row[] {
  const out: Row[] = [];
  for (const a of store.agents.values()) {
    const status = store.statuses.get(a.blockId)?.status ?? null;
    const usage = usageOf(status, a.meta);
    out.push({
      blockId: a.blockId,
      name: metaString(a.meta, "agent:name"),
      provider: metaString(a.meta, "agent:provider") ?? "?",
      word: statusWord(status, a.meta),
      session: sessionOf(status, a.meta),
      tokens: usage ? usage.input_tokens + usage.output_tokens : null,
      cost: usage ? usage.cost_usd : null,
      activity: store.activity.get(a.blockId) ?? null,
      lastLine: lastLine(store, a.blockId, status),
    });
  }
  return out.sort(
    (x, y) =>
      statusRank(x.word) - statusRank(y.word) ||
      (x.name ?? x.blockId).localeCompare(y.name ?? y.blockId) ||
      x.blockId.localeCompare(y.blockId),
  );
}

function NotificationButton() {
  const [permission, setPermission] = useState(notificationPermission());
  if (permission === "unsupported") return null;
  if (permission === "granted")
    return <p class="muted">Notifications are on: the browser tells you when an agent needs input.</p>;
  if (permission === "denied") return <p class="muted">Notifications are blocked in this browser.</p>;
  return (
    <button type="button" onClick={() => void askNotificationPermission().then(setPermission)}>
      Notify me when an agent needs input
    </button>
  );
}

export function FleetView() {
  const store = useStore();
  const now = useNow();
  const list = rows(store);
  return (
    <>
      <div class="view-head">
        <h1 id="view-title" tabIndex={-1}>
          Fleet
        </h1>
        <NotificationButton />
      </div>
      <table class="fleet" data-testid="fleet">
        <caption>
          {store.agentsLoaded ? `${list.length} agent${list.length === 1 ? "" : "s"}` : "Loading agents…"}, those
          needing attention first
        </caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Provider</th>
            <th scope="col">Status</th>
            <th scope="col">Session</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
            <th scope="col">Last activity</th>
            <th scope="col">Last line</th>
          </tr>
        </thead>
        <tbody>
          {list.length === 0 ? (
            <tr>
              <td colSpan={8} class="empty">
                {store.agentsLoaded ? "No agents yet: create one below." : "Loading…"}
              </td>
            </tr>
          ) : null}
          {list.map((r) => (
            <tr key={r.blockId} data-testid="agent-row" data-agent-name={r.name ?? ""}>
              <td data-label="Name">
                <a href={agentHref(r.blockId)}>{r.name ?? `unnamed ${r.blockId.slice(0, 8)}`}</a>
              </td>
              <td data-label="Provider">{r.provider}</td>
              <td data-label="Status">
                <span class={statusClass(r.word)} data-testid="agent-status">
                  {r.word}
                </span>
              </td>
              <td data-label="Session">
                {r.session ? (
                  <code class="session" title={r.session}>
                    {r.session}
                  </code>
                ) : (
                  "—"
                )}
              </td>
              <td data-label="Tokens">{r.tokens === null ? "—" : formatCount(r.tokens)}</td>
              <td data-label="Cost">{r.cost === null ? "—" : formatUsd(r.cost)}</td>
              <td data-label="Last activity">{ago(r.activity, now)}</td>
              <td data-label="Last line" class="last-line" title={r.lastLine ?? undefined}>
                {r.lastLine ?? ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="columns">
        <NewAgentForm />
        <WorkspaceTabs store={store} />
      </div>
    </>
  );
}
