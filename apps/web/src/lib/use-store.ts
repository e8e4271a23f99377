// Preact glue: the store in a context, and a hook that re-renders on its changes.
import { createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import type { Store } from "./store.js";

export const StoreContext = createContext<Store | null>(null);

export function useStore(): Store {
  const store = useContext(StoreContext);
  if (store === null) throw new Error("useStore outside StoreContext");
  const [, setSeen] = useState(store.revision);
  useEffect(() => store.subscribe(() => setSeen(store.revision)), [store]);
  return store;
}

/** The current time, refreshed every `everyMs` (for "5 min ago"). */
export function useNow(everyMs = 10_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
