// The fleet page's "Tabs" section: every workspace and its tabs, and the commands that manage
// them (new, rename, delete). srv decides; a refusal (the last tab of a workspace, a workspace
// that still holds agents) is shown in srv's own words. Buttons name their item in text hidden
// from sight ("Delete tab Tab 2"), not in aria-label: a label would also match a field lookup by
// "Name" (every "Rename" contains it), and the new-agent form's "Name" field must stay unique.
import type { CommandInput } from "@agentmux/common-ipc";
import { useEffect, useRef, useState } from "preact/hooks";
import { tabHref } from "../lib/route.js";
import type { Store } from "../lib/store.js";

interface Result {
  ok: boolean;
  text: string;
}

/** What is being renamed: one at a time, so a "Save" button is never ambiguous. */
interface Renaming {
  kind: "workspace" | "tab";
  id: string;
  oldName: string;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function RenameForm({
  target,
  busy,
  onSave,
  onCancel,
}: {
  target: Renaming;
  busy: boolean;
  onSave: (name: string) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(target.oldName);
  const input = useRef<HTMLInputElement>(null);
  // The "Rename" button that opened the form is gone: focus moves to the field, typed into next.
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);
  const inputId = `rename-${target.kind}-${target.id}`;
  return (
    <form
      class="rename"
      onSubmit={(e) => {
        e.preventDefault();
        onSave(name.trim());
      }}
    >
      <label for={inputId}>New name for {target.oldName}</label>
      <input
        id={inputId}
        type="text"
        autocomplete="off"
        spellcheck={false}
        value={name}
        ref={input}
        onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") onCancel();
        }}
      />
      <span class="buttons">
        <button type="submit" class="primary" disabled={busy}>
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </span>
    </form>
  );
}

/**
 * A row's small button: its visible label, and what it acts on as visually hidden text (not an
 * aria-label, so a field lookup by "Name" stays unique and the accessible name reads whole).
 */
function Action(props: { label: string; of: string; danger?: boolean; disabled?: boolean; onClick: () => void }) {
  return (
    <button
      type="button"
      class={props.danger ? "small danger" : "small"}
      disabled={props.disabled}
      onClick={props.onClick}
    >
      {props.label}
      <span class="sr-only"> {props.of}</span>
    </button>
  );
}

export function WorkspaceTabs({ store }: { store: Store }) {
  const [newName, setNewName] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result | null>(null);
  const [renaming, setRenaming] = useState<Renaming | null>(null);

  /** Sends one command; srv's events update the store, so only the outcome is said here. */
  const run = (cmd: CommandInput, okText: string, after?: () => void) => {
    setBusy(true);
    setResult(null);
    store
      .request(cmd)
      .then(() => {
        setResult({ ok: true, text: okText });
        after?.();
      })
      .catch((err: unknown) => setResult({ ok: false, text: errorText(err) }))
      .finally(() => setBusy(false));
  };

  const save = (target: Renaming, name: string) => {
    if (name === "" || name === target.oldName) {
      setRenaming(null);
      return;
    }
    const cmd: CommandInput =
      target.kind === "workspace"
        ? { cmd: "rename_workspace", workspace_id: target.id, name }
        : { cmd: "rename_tab", tab_id: target.id, name };
    run(cmd, `Renamed ${target.oldName} to ${name}.`, () => setRenaming(null));
  };

  const groups = [...store.workspaces].map(([id, name]) => ({
    id,
    name: name || id,
    tabs: [...store.tabs.values()].filter((t) => t.workspaceId === id),
  }));
  const isRenaming = (kind: Renaming["kind"], id: string) => renaming?.kind === kind && renaming.id === id;

  return (
    <section aria-labelledby="tabs-title">
      <h2 id="tabs-title">Tabs</h2>
      <form
        class="new-workspace"
        onSubmit={(e) => {
          e.preventDefault();
          const name = newName.trim();
          run({ cmd: "create_workspace", name }, `Created workspace ${name || "(unnamed)"}.`, () => setNewName(""));
        }}
      >
        <label for="new-workspace-name">Workspace title</label>
        <span class="inline-field">
          <input
            id="new-workspace-name"
            type="text"
            autocomplete="off"
            spellcheck={false}
            value={newName}
            onInput={(e) => setNewName((e.currentTarget as HTMLInputElement).value)}
          />
          <button type="submit" disabled={busy}>
            New workspace
          </button>
        </span>
      </form>
      {result ? (
        <p class={result.ok ? "result" : "result bad"} role={result.ok ? "status" : "alert"}>
          {result.text}
        </p>
      ) : null}
      {groups.length === 0 ? <p class="muted">{store.snapshotLoaded ? "No workspaces." : "Loading…"}</p> : null}
      <ul class="tab-groups">
        {groups.map((g) => (
          <li key={g.id}>
            {renaming && isRenaming("workspace", g.id) ? (
              <RenameForm
                target={renaming}
                busy={busy}
                onSave={(name) => save(renaming, name)}
                onCancel={() => setRenaming(null)}
              />
            ) : (
              <span class="ws-line">
                <span class="ws-name">{g.name}</span>
                <Action
                  label="Rename"
                  of={`workspace ${g.name}`}
                  onClick={() => setRenaming({ kind: "workspace", id: g.id, oldName: g.name })}
                />
                <Action
                  label="New tab"
                  of={`in ${g.name}`}
                  disabled={busy}
                  onClick={() =>
                    run({ cmd: "create_tab", workspace_id: g.id, name: "" }, `Created a tab in ${g.name}.`)
                  }
                />
                <Action
                  label="Delete"
                  of={`workspace ${g.name}`}
                  danger
                  disabled={busy}
                  onClick={() =>
                    run({ cmd: "delete_workspace", workspace_id: g.id, force: false }, `Deleted workspace ${g.name}.`)
                  }
                />
              </span>
            )}
            <ul class="tab-links">
              {g.tabs.map((t) => {
                const tabName = t.name || t.id;
                return (
                  <li key={t.id}>
                    {renaming && isRenaming("tab", t.id) ? (
                      <RenameForm
                        target={renaming}
                        busy={busy}
                        onSave={(name) => save(renaming, name)}
                        onCancel={() => setRenaming(null)}
                      />
                    ) : (
                      <span class="tab-line">
                        <a href={tabHref(t.id)}>{tabName}</a>
                        {store.activeTabs.get(g.id) === t.id ? <span class="muted"> (active)</span> : null}
                        <Action
                          label="Rename"
                          of={`tab ${tabName}`}
                          onClick={() => setRenaming({ kind: "tab", id: t.id, oldName: tabName })}
                        />
                        <Action
                          label="Delete"
                          of={`tab ${tabName}`}
                          danger
                          disabled={busy}
                          onClick={() =>
                            run(
                              { cmd: "delete_tab", workspace_id: g.id, tab_id: t.id, force: false },
                              `Deleted tab ${tabName}.`,
                            )
                          }
                        />
                      </span>
                    )}
                  </li>
                );
              })}
            </ul>
          </li>
        ))}
      </ul>
    </section>
  );
}
