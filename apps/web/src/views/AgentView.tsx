// One agent: its state, the permission requests it waits on, its transcript, and a composer.
import { summarizeTool } from "@agentmux/agent-controller/transcript";
import type { AgentInputRequest } from "@agentmux/common-ipc";
import { useEffect, useState } from "preact/hooks";
import { metaString, sessionOf, statusClass, statusWord, usageOf } from "../lib/agents.js";
import { formatCount, formatUsd, oneLineOf, prettyJson } from "../lib/format.js";
import { tabHref } from "../lib/route.js";
import { useStore } from "../lib/use-store.js";
import { Transcript } from "./Transcript.js";
import { TurnChart, turnsOf } from "./TurnChart.js";

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function Permission({ blockId, request }: { blockId: string; request: AgentInputRequest }) {
  const store = useStore();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const summary = summarizeTool(request.tool, request.input) || oneLineOf(request.input);
  const answer = (decision: "allow" | "deny") => {
    setBusy(true);
    setError(null);
    store
      .act({ cmd: "agent_respond", block_id: blockId, request_id: request.request_id, decision })
      .catch((err: unknown) => setError(errorText(err)))
      .finally(() => setBusy(false));
  };
  return (
    <section class="permission" data-testid="permission" aria-label={`Permission request: ${request.tool}`}>
      <p>
        <strong>Permission needed:</strong> <span class="tool">{request.tool}</span>
        {summary ? <code class="oneline">{summary}</code> : null}
      </p>
      <details>
        <summary>Full input</summary>
        <pre>{prettyJson(request.input)}</pre>
      </details>
      <div class="buttons">
        <button type="button" class="primary" disabled={busy} onClick={() => answer("allow")}>
          Allow
        </button>
        <button type="button" disabled={busy} onClick={() => answer("deny")}>
          Deny
        </button>
      </div>
      {error ? <p role="alert">{error}</p> : null}
    </section>
  );
}

function Composer({ blockId }: { blockId: string }) {
  const store = useStore();
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const run = (what: string, cmd: Parameters<typeof store.act>[0], after?: () => void) => {
    setBusy(true);
    setResult(null);
    store
      .act(cmd)
      .then(() => {
        after?.();
        setResult({ ok: true, text: what });
      })
      .catch((err: unknown) => setResult({ ok: false, text: errorText(err) }))
      .finally(() => setBusy(false));
  };
  const send = (e?: Event) => {
    e?.preventDefault();
    const message = text;
    if (message.trim() === "" || busy) return;
    run("Sent.", { cmd: "agent_send", block_id: blockId, message }, () => setText(""));
  };
  return (
    <form class="composer" onSubmit={send}>
      <label for="message">Message</label>
      <textarea
        id="message"
        rows={3}
        value={text}
        placeholder="Tell the agent what to do (Ctrl+Enter sends)"
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) send(e);
        }}
      />
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy}>
          Send
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() => run("Interrupted.", { cmd: "agent_interrupt", block_id: blockId })}
        >
          Interrupt
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() => run("Stopping.", { cmd: "agent_stop", block_id: blockId, force: false })}
        >
          Stop
        </button>
        <span class={result?.ok === false ? "result bad" : "result"} role="status">
          {result?.text ?? ""}
        </span>
      </div>
    </form>
  );
}

export function AgentView({ blockId }: { blockId: string }) {
  const store = useStore();
  const agent = store.agents.get(blockId);
  const provider = agent ? (metaString(agent.meta, "agent:provider") ?? "") : null;
  const [deleting, setDeleting] = useState<string | null>(null);

  useEffect(() => {
    if (provider === null) return;
    store.openFeed(blockId, provider);
    return () => store.closeFeed(blockId);
  }, [store, blockId, provider]);

  if (!agent) {
    return (
      <>
        <h1 id="view-title" tabIndex={-1}>
          Agent
        </h1>
        <p>{store.agentsLoaded ? `There is no agent ${blockId}.` : "Loading…"}</p>
        <p>
          <a href="#/">Back to the fleet</a>
        </p>
      </>
    );
  }

  const status = store.statuses.get(blockId)?.status ?? null;
  const word = statusWord(status, agent.meta);
  const name = metaString(agent.meta, "agent:name") ?? blockId;
  const usage = usageOf(status, agent.meta);
  const session = sessionOf(status, agent.meta);
  const tab = store.tabs.get(agent.tabId);
  const feed = store.feeds.get(blockId);

  const remove = async () => {
    setDeleting("Deleting…");
    try {
      // Stopped first, so its process ends on the ladder's gentle steps; a stopped agent refuses, which is fine.
      await store.act({ cmd: "agent_stop", block_id: blockId, force: false }).catch(() => undefined);
      await store.request(
        { cmd: "delete_block", tab_id: agent.tabId, block_id: blockId },
        { done: (ev) => ev.event === "block_deleted", timeoutMs: 10_000 },
      );
      location.hash = "#/";
    } catch (err) {
      setDeleting(errorText(err));
    }
  };

  return (
    <>
      <div class="agent-head">
        <h1 id="view-title" tabIndex={-1}>
          {name}
        </h1>
        <span class={statusClass(word)}>{word}</span>
        <div class="head-actions">
          <RenameAgent blockId={blockId} name={metaString(agent.meta, "agent:name") ?? ""} />
          <button type="button" class="danger" disabled={deleting === "Deleting…"} onClick={remove}>
            Delete agent
          </button>
          {deleting ? <span role="status">{deleting}</span> : null}
        </div>
      </div>
      <dl class="facts">
        <div>
          <dt>Provider</dt>
          <dd>{provider || "?"}</dd>
        </div>
        <div>
          <dt>Directory</dt>
          <dd>
            <code>{metaString(agent.meta, "agent:cwd") ?? "?"}</code>
          </dd>
        </div>
        <div>
          <dt>Session</dt>
          <dd>
            <code>{session ?? "—"}</code>
          </dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>{usage ? `${formatCount(usage.input_tokens)} in / ${formatCount(usage.output_tokens)} out` : "—"}</dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>{usage ? formatUsd(usage.cost_usd) : "—"}</dd>
        </div>
        <div>
          <dt>Tab</dt>
          <dd>
            <a href={tabHref(agent.tabId)}>{tab?.name ?? agent.tabId}</a>
          </dd>
        </div>
      </dl>
      {status?.fault ? (
        <div class="fault" role="alert">
          <strong>{status.fault.kind.replace("_", " ")}:</strong> {status.fault.message}
          {status.fault.stderr && status.fault.stderr.length > 0 ? (
            <details>
              <summary>What it wrote to stderr</summary>
              <pre>{status.fault.stderr.join("\n")}</pre>
            </details>
          ) : null}
        </div>
      ) : null}
      {(status?.requests ?? []).map((r) => (
        <Permission key={r.request_id} blockId={blockId} request={r} />
      ))}
      {feed ? <TurnChart turns={turnsOf(feed.events)} /> : null}
      {feed ? <Transcript feed={feed} /> : <p class="muted">Loading the transcript…</p>}
      <Composer blockId={blockId} />
    </>
  );
}

/** Renames the agent (`agent:name`); srv refuses a name another agent of the workspace has, and says so. */
function RenameAgent({ blockId, name }: { blockId: string; name: string }) {
  const store = useStore();
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState(name);
  const [error, setError] = useState<string | null>(null);
  if (!open) {
    return (
      <button
        type="button"
        onClick={() => {
          setValue(name);
          setError(null);
          setOpen(true);
        }}
      >
        Rename agent
      </button>
    );
  }
  const save = async (e: Event) => {
    e.preventDefault();
    const next = value.trim();
    if (next === "" || next === name) return setOpen(false);
    try {
      await store.request({ cmd: "update_block_meta", block_id: blockId, meta_patch: { "agent:name": next } });
      setOpen(false);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <form class="rename" onSubmit={save}>
      <label for={`rename-agent-${blockId}`}>New agent name</label>
      <input
        id={`rename-agent-${blockId}`}
        value={value}
        onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
      />
      <button type="submit">Save name</button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error ? <p role="alert">{error}</p> : null}
    </form>
  );
}
