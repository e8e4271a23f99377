// Reads a stored transcript (examples/transcript.ndjson: real Claude Code stream-json lines, as a
// session's output$ writes them) the way `agent logs` would: in chunks, as they come from a file
// or a socket, through the normalized transcript model, printed as short readable lines.
import { readFileSync } from "node:fs";
import { formatEvent, mergeDeltas, normalizeChunk } from "@agentmux/agent-controller/transcript";

const bytes = readFileSync(new URL("transcript.ndjson", import.meta.url));
const decoder = new TextDecoder();
let rest = "";
let offset = 0;
const events = [];
// 1 KiB chunks: lines are cut anywhere, even inside a multi-byte character; `rest` carries the tail.
for (let at = 0; at < bytes.length; at += 1024) {
  const chunk = rest + decoder.decode(bytes.subarray(at, at + 1024), { stream: true });
  const out = normalizeChunk("claude", chunk, { offset });
  events.push(...out.events);
  ({ rest, restOffset: offset } = out);
}
events.push(...normalizeChunk("claude", rest + decoder.decode(), { offset, final: true }).events);

for (const event of mergeDeltas(events)) {
  for (const line of formatEvent(event, { width: 100 })) console.log(line);
}
const tools = events.filter((e) => e.type === "tool_call").map((e) => `${e.name} @${e.offset}`);
console.log(`${events.length} events, tool calls: ${tools.join(", ")}`);
// · session 166ca3a6-69e9-47ec-8639-9b5fd662f78d · claude-opus-5-5 · /tmp/agentmux-cwd-6UM54D · claud…
// hello from the fake model
// — turn done: 12 in / 7 out, $0.0002 total, 161ms
// · session 166ca3a6-… (claude writes an init line at every turn)
// → Bash: touch one.txt
// ← ok: (Bash completed with no output)
// done
// — turn done: 24 in / 14 out, $0.0006 total, 169ms
// · session 166ca3a6-…
// → Bash: touch two.txt
// ← error: not today
// done
// — turn done: 24 in / 14 out, $0.0009 total, 91ms
// 13 events, tool calls: Bash @8334, Bash @14879
