// Drive the pure reducer: decide events for commands, apply them with evolve, take a snapshot.
import { randomUUID } from "node:crypto";
import { parseCommand } from "@agentmux/common-ipc";
import { checkInvariants, decide, EventRing, evolve, initialState, snapshot } from "@agentmux/reducer";

const state = initialState();
const ring = new EventRing();
const ctx = { now: new Date().toISOString(), newId: randomUUID, registeredPid: 42 };

function dispatch(input) {
  const parsed = parseCommand(input);
  if (!parsed.ok) throw parsed.error;
  const events = decide(state, parsed.value, ctx);
  for (const ev of events) {
    evolve(state, ev);
    ring.push(ev);
    console.log(`v${ev.version} ${ev.event}`, JSON.stringify(ev));
  }
  return events;
}

dispatch({ cmd: "register", kind: "tool", pid: 42, version: "1.0" });
const [ws] = dispatch({ cmd: "create_workspace", name: "Starter workspace" });
const [tab] = dispatch({ cmd: "create_tab", workspace_id: ws.workspace_id, name: "" });
dispatch({ cmd: "create_block", tab_id: tab.tab_id, meta: { view: "agent", "agent:name": "alice" } });
dispatch({ cmd: "delete_tab", workspace_id: ws.workspace_id, tab_id: tab.tab_id }); // refused: last tab

console.log("snapshot:", JSON.stringify(snapshot(state)));
console.log(
  "replay since v3:",
  ring
    .eventsSince(3)
    .events.map((e) => e.event)
    .join(", "),
);
console.log("invariant violations:", checkInvariants(state).length);
