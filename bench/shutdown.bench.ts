// How long srv takes to stop: SIGTERM → exit, with 10 agents in the middle of a
// turn, against the same srv with no agents (same run). The agents are stand-in
// CLIs that behave as claude does: a turn in progress ends when interrupted, and
// the CLI exits when its stdin closes. srv stops agents first, so this figure is
// the stop ladder's cost for well-behaved agents.
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emit, median } from "./lib.ts";
import { benchClient, cleanup, startSrv } from "./srv.ts";

const AGENTS = 10;
const ROUNDS = 3;

const work = mkdtempSync(join(tmpdir(), "bench-shutdown-"));
const cli = join(work, "busy-cli");
writeFileSync(
  cli,
  `#!${process.execPath}
const sid = "busy-" + process.pid;
const out = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
out({ type: "system", subtype: "init", session_id: sid });
require("node:readline").createInterface({ input: process.stdin }).on("line", (line) => {
  const msg = JSON.parse(line);
  // A user turn starts work that never finishes by itself; an interrupt ends it.
  if (msg.type === "user") out({ type: "stream_event", event: { delta: { text: "working" } }, session_id: sid });
  if (msg.type === "control_request" && msg.request?.subtype === "interrupt") {
    out({ type: "control_response", response: { subtype: "success", request_id: msg.request_id } });
    out({ type: "result", subtype: "error_during_execution", is_error: false, session_id: sid, usage: {} });
  }
});
`,
);
chmodSync(cli, 0o755);

/** Starts srv with `agents` agents mid-turn; resolves once every one is running its turn. */
async function srvWithAgents(agents: number) {
  const srv = await startSrv();
  const busy = new Set<string>();
  const { socket, call, tabId } = await benchClient(srv.pipe, 961, (e) => {
    if (e.event === "agent_status" && e.turn_active === true) busy.add(e.block_id as string);
  });
  for (let i = 0; i < agents; i++) {
    const meta = { view: "agent", "agent:provider": "claude", "agent:cwd": work, "agent:command": cli };
    const created = await call({ cmd: "create_block", tab_id: tabId, meta, req_id: `b${i}` }, `b${i}`);
    socket.write(`${JSON.stringify({ cmd: "agent_send", block_id: created.block_id, message: "work" })}\n`);
  }
  while (busy.size < agents) await new Promise((r) => setTimeout(r, 10));
  return srv;
}

async function stopMs(agents: number): Promise<number> {
  const srv = await srvWithAgents(agents);
  const exited = new Promise((r) => srv.child.once("exit", r));
  const start = process.hrtime.bigint();
  srv.child.kill("SIGTERM");
  await exited;
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  cleanup(srv.dataDir);
  return ms;
}

const empty: number[] = [];
const loaded: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  empty.push(await stopMs(0));
  loaded.push(await stopMs(AGENTS));
}
const value = median(loaded);
const baseline = median(empty);
emit({
  bench: "srv.shutdown_10_agents",
  value,
  unit: "ms",
  baseline: "SIGTERM → exit of srv with no agents (same run)",
  baseline_value: baseline,
  ratio: value / baseline,
  goal: "value<=1000ms",
  pass: value <= 1000,
});
cleanup(work);
