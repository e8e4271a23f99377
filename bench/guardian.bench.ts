// Memory of the guardian that kills srv's agents if srv dies without stopping them: its RSS
// once one agent runs (the cost per srv) and the growth per further agent registered with it
// (20 agents), against srv's own RSS with the same 20 agents (same run).
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emit } from "./lib.ts";
import { benchClient, cleanup, startSrv } from "./srv.ts";

const AGENTS = 20;
const work = mkdtempSync(join(tmpdir(), "bench-guardian-"));
const cli = join(work, "idle-cli");
writeFileSync(
  cli,
  `#!${process.execPath}
const sid = "idle-" + process.pid;
const out = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
out({ type: "system", subtype: "init", session_id: sid });
require("node:readline").createInterface({ input: process.stdin }).on("line", () =>
  out({ type: "result", subtype: "success", is_error: false, session_id: sid, usage: {} }),
);
`,
);
chmodSync(cli, 0o755);

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

/** srv's child that runs the guardian script. */
function guardianOf(srvPid: number): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === srvPid && readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("agentmux-guardian"))
        return Number(entry);
    } catch {
      // gone while we looked
    }
  }
  throw new Error("no guardian found");
}

const srv = await startSrv();
const idle = new Set<string>();
const { socket, call, tabId } = await benchClient(srv.pipe, 971, (e) => {
  if (e.event === "agent_status" && e.pid !== null && e.turn_active === false && e.session_id !== null)
    idle.add(e.block_id as string);
});
async function agents(n: number) {
  for (let i = idle.size; i < n; i++) {
    const meta = { view: "agent", "agent:provider": "claude", "agent:cwd": work, "agent:command": cli };
    const created = await call({ cmd: "create_block", tab_id: tabId, meta, req_id: `b${i}` }, `b${i}`);
    socket.write(`${JSON.stringify({ cmd: "agent_send", block_id: created.block_id, message: "hi" })}\n`);
  }
  while (idle.size < n) await new Promise((r) => setTimeout(r, 10));
}

await agents(1);
const srvPid = srv.child.pid as number;
const guardian = guardianOf(srvPid);
const one = rssKb(guardian);
await agents(AGENTS);
const many = rssKb(guardian);
const srvRss = rssKb(srvPid);
emit({
  bench: "guardian.rss_per_srv",
  value: one / 1024,
  unit: "MB",
  baseline: `srv's own RSS with ${AGENTS} agents (same run)`,
  baseline_value: srvRss / 1024,
  ratio: one / srvRss,
  goal: "value<=4MB",
  pass: one / 1024 <= 4,
});
emit({
  bench: "guardian.rss_per_agent",
  value: (many - one) / (AGENTS - 1),
  unit: "KB",
  baseline: "the guardian's RSS with one agent",
  baseline_value: one,
  ratio: (many - one) / (AGENTS - 1) / one,
  goal: "value<=64KB",
  pass: (many - one) / (AGENTS - 1) <= 64,
});
socket.destroy();
await srv.stop();
cleanup(work);
