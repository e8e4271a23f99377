// The "New agent" form: an agent block with its tile, in the first workspace's active tab.
import { useState } from "preact/hooks";
import { useStore } from "../lib/use-store.js";

const PROVIDERS = ["claude", "codex", "gemini", "acp"] as const;

export function NewAgentForm() {
  const store = useStore();
  const [provider, setProvider] = useState<string>("claude");
  const [name, setName] = useState("");
  const [cwd, setCwd] = useState("");
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const submit = (e: Event) => {
    e.preventDefault();
    const tabId = store.defaultTab();
    if (tabId === null) {
      setResult({ ok: false, text: "There is no tab to put the agent in yet." });
      return;
    }
    const dir = cwd.trim();
    // srv takes any meta at creation and checks it when the agent first runs: say it now instead.
    if (!(dir.startsWith("/") || dir === "~" || dir.startsWith("~/"))) {
      setResult({
        ok: false,
        text:
          dir === ""
            ? "Working directory is required."
            : 'Working directory must be an absolute path, "~" or start with "~/".',
      });
      return;
    }
    const meta: Record<string, string> = { view: "agent", "agent:provider": provider, "agent:cwd": dir };
    if (name.trim() !== "") meta["agent:name"] = name.trim();
    setBusy(true);
    setResult(null);
    store
      .request({ cmd: "create_block", tab_id: tabId, meta, tile: {} }, { done: (ev) => ev.event === "block_created" })
      .then(() => {
        setResult({ ok: true, text: `Created ${name.trim() || "the agent"}.` });
        setName("");
      })
      .catch((err: unknown) => setResult({ ok: false, text: err instanceof Error ? err.message : String(err) }))
      .finally(() => setBusy(false));
  };

  return (
    <section aria-labelledby="new-agent-title">
      <h2 id="new-agent-title">New agent</h2>
      <form class="new-agent" onSubmit={submit}>
        <label for="new-provider">Provider</label>
        <select
          id="new-provider"
          value={provider}
          onChange={(e) => setProvider((e.currentTarget as HTMLSelectElement).value)}
        >
          {PROVIDERS.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
        <label for="new-name">Name</label>
        <input
          id="new-name"
          type="text"
          autocomplete="off"
          spellcheck={false}
          value={name}
          onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
        />
        <label for="new-cwd">Working directory</label>
        <input
          id="new-cwd"
          type="text"
          autocomplete="off"
          spellcheck={false}
          placeholder="~/project"
          value={cwd}
          onInput={(e) => setCwd((e.currentTarget as HTMLInputElement).value)}
        />
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>
            Create agent
          </button>
        </div>
        {result ? (
          <p class={result.ok ? "result" : "result bad"} role={result.ok ? "status" : "alert"}>
            {result.text}
          </p>
        ) : null}
      </form>
    </section>
  );
}
