// Open a data dir, migrate, seed initial data, persist reducer events, write a transcript, boot again.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCommand } from "@agentmux/common-ipc";
import { decide, evolve } from "@agentmux/reducer";
import { openStore } from "@agentmux/store";

const dataDir = mkdtempSync(join(tmpdir(), "agentmux-example-"));
const store = await openStore({ dataDir, synchronous: "normal" });
console.log("pending migrations:", store.pendingMigrations);
await store.migrate();

const ctx = { now: new Date().toISOString(), newId: randomUUID, registeredPid: null };
await store.objects.ensureInitialData(ctx);
const state = await store.objects.loadState();
const [tabId] = state.tabs.keys();

// One command through the reducer, persisted before anyone would see it.
const cmd = parseCommand({ cmd: "create_block", tab_id: tabId, meta: { view: "agent", "agent:name": "alice" } });
if (!cmd.ok) throw cmd.error;
const events = decide(state, cmd.value, ctx);
await store.objects.applyEvents(events);
for (const ev of events) evolve(state, ev);
const blockId = events[0].block_id;

// The agent's transcript, appended in 64 KiB parts.
const { offset } = await store.files.append(blockId, "output", '{"type":"assistant"}\n');
const out = await store.files.read(blockId, "output", offset);
console.log("transcript line at offset", offset, ":", out.data.toString().trim());

console.log("logged:", (await store.objects.eventsSince(0)).events.map((e) => e.event).join(", "));
console.log("block meta:", JSON.stringify((await store.objects.get("block", blockId)).meta));
await store.close();

// A second boot rebuilds the same state from the snapshot and the log.
const again = await openStore({ dataDir });
await again.migrate();
const rebuilt = await again.objects.loadState();
console.log("rebuilt blocks:", rebuilt.blocks.size, "version:", rebuilt.version);
await again.close();
rmSync(dataDir, { recursive: true, force: true });
