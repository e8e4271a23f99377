// Hash routes: #/ (fleet), #/agent/<block_id>, #/tab/<tab_id>, #/messages.
import { useEffect, useState } from "preact/hooks";

export type Route =
  | { name: "fleet" }
  | { name: "messages" }
  | { name: "agent"; id: string }
  | { name: "tab"; id: string };

export function parseRoute(hash: string): Route {
  if (hash === "#/messages") return { name: "messages" };
  const m = /^#\/(agent|tab)\/(.+)$/.exec(hash);
  if (m?.[1] && m[2]) {
    let id: string;
    try {
      id = decodeURIComponent(m[2]);
    } catch {
      return { name: "fleet" };
    }
    return m[1] === "agent" ? { name: "agent", id } : { name: "tab", id };
  }
  return { name: "fleet" };
}

export const agentHref = (blockId: string): string => `#/agent/${encodeURIComponent(blockId)}`;
export const tabHref = (tabId: string): string => `#/tab/${encodeURIComponent(tabId)}`;

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  return route;
}
