// The page: header, then the view the hash route names.
import { useEffect, useRef } from "preact/hooks";
import { needsInput } from "../lib/agents.js";
import { useRoute } from "../lib/route.js";
import { useStore } from "../lib/use-store.js";
import { AgentView } from "./AgentView.js";
import { FleetView } from "./FleetView.js";
import { Header } from "./Header.js";
import { MessagesView } from "./MessagesView.js";
import { TabView } from "./TabView.js";

export function App() {
  const store = useStore();
  const route = useRoute();
  const first = useRef(true);

  // After a navigation, the new view's heading takes focus (where a screen reader expects to be).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById("view-title")?.focus();
  }, [route]);

  let waiting = 0;
  for (const s of store.statuses.values()) if (store.agents.has(s.status.block_id) && needsInput(s.status)) waiting++;
  const title = { fleet: "Fleet", messages: "Messages", agent: "Agent", tab: "Tab" }[route.name];
  useEffect(() => {
    document.title = `${waiting > 0 ? `(${waiting}) ` : ""}${title} · agentmux`;
  }, [waiting, title]);

  return (
    <>
      <button type="button" class="skip" onClick={skipToMain}>
        Skip to content
      </button>
      <Header route={route} />
      <main id="main" tabIndex={-1}>
        {route.name === "agent" ? (
          <AgentView key={route.id} blockId={route.id} />
        ) : route.name === "tab" ? (
          <TabView key={route.id} tabId={route.id} />
        ) : route.name === "messages" ? (
          <MessagesView />
        ) : (
          <FleetView />
        )}
      </main>
    </>
  );
}

/** A button, not a `#main` link: the hash is the router's. */
function skipToMain(): void {
  document.getElementById("main")?.focus();
}
