// The header: the name, the connection in words, links to the fleet and every tab.
import type { Route } from "../lib/route.js";
import { tabHref } from "../lib/route.js";
import { useStore } from "../lib/use-store.js";

export function Header({ route }: { route: Route }) {
  const store = useStore();
  const manyWorkspaces = store.workspaces.size > 1;
  const tabs = [...store.tabs.values()];
  return (
    <header class="top">
      <div class="top-line">
        <a class="brand" href="#/">
          agentmux
        </a>
        <span class={`conn conn-${store.connection}`} data-testid="connection" role="status">
          {store.connection}
        </span>
      </div>
      <nav aria-label="Views">
        <ul>
          <li>
            <a href="#/" aria-current={route.name === "fleet" ? "page" : undefined}>
              Fleet
            </a>
          </li>
          <li>
            <a href="#/messages" aria-current={route.name === "messages" ? "page" : undefined}>
              Messages
            </a>
          </li>
          {tabs.map((t) => (
            <li key={t.id}>
              <a href={tabHref(t.id)} aria-current={route.name === "tab" && route.id === t.id ? "page" : undefined}>
                {manyWorkspaces ? `${store.workspaces.get(t.workspaceId) ?? "?"} / ` : ""}
                {t.name || t.id}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {store.notice ? (
        <p class="notice" role="alert">
          {store.notice}
        </p>
      ) : null}
    </header>
  );
}
