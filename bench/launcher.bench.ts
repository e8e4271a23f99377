// The agentmux command's own cost, against the same-run baselines:
//  - `agentmux start` (foreground) from spawn to "ready" printed, against srv alone from spawn
//    to AGENTMUXSRV-ESTART;
//  - one whole CLI verb, `agentmux agent ls` against a srv with 20 agents, against `node -e 0`.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emit, median } from "./lib.ts";
import { cleanup, startSrv } from "./srv.ts";

const LAUNCHER = join(import.meta.dirname, "..", "apps", "launcher", "dist", "bin.js");
const ROUNDS = 5;
const VERB_RUNS = 10;

/** ms from spawning `agentmux start` to its ready message; stops it after. */
async function launcherReadyMs(dataDir: string): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [LAUNCHER, "--data-dir", dataDir, "start"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Ctrl-C stops it.")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`agentmux start exited ${code}: ${out}`)));
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
  return ms;
}

const work = mkdtempSync(join(tmpdir(), "bench-launcher-"));
const ours: number[] = [];
const alone: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const srv = await startSrv(join(work, `srv-${r}`));
  alone.push(srv.startMs);
  await srv.stop();
  // A data dir that has been migrated too, so both starts do the same work.
  ours.push(await launcherReadyMs(join(work, `srv-${r}`)));
}
emit({
  bench: "launcher.start_to_ready_added",
  value: median(ours) - median(alone),
  unit: "ms",
  baseline: "agentmux-srv alone: spawn → ESTART (same data dirs, same run)",
  baseline_value: median(alone),
  ratio: median(ours) / median(alone),
  goal: "value<=50ms",
  pass: median(ours) - median(alone) <= 50,
});

// A srv with 20 agents, under a launcher (the verbs find it through the run file).
const dataDir = join(work, "fleet");
const launcher = spawn(process.execPath, [LAUNCHER, "--data-dir", dataDir, "start"], {
  stdio: ["ignore", "pipe", "inherit"],
});
await new Promise<void>((resolve) => {
  let out = "";
  launcher.stdout.on("data", (d) => {
    out += d;
    if (out.includes("Ctrl-C stops it.")) resolve();
  });
});
for (let i = 0; i < 20; i++) {
  const r = spawnSync(process.execPath, [
    LAUNCHER,
    "--data-dir",
    dataDir,
    "agent",
    "new",
    "claude",
    "--name",
    `a${i}`,
    "--cwd",
    work,
  ]);
  if (r.status !== 0) throw new Error(`agent new failed: ${r.stderr}`);
}
const timed = (argv: string[]) => {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
};
const verb: number[] = [];
const bare: number[] = [];
for (let i = 0; i < VERB_RUNS; i++) {
  bare.push(timed(["-e", "0"]));
  verb.push(timed([LAUNCHER, "--data-dir", dataDir, "agent", "ls"]));
}
emit({
  bench: "launcher.agent_ls_20_agents",
  value: median(verb),
  unit: "ms",
  baseline: "node -e 0 (same run)",
  baseline_value: median(bare),
  ratio: median(verb) / median(bare),
  goal: "ratio<=2",
  pass: median(verb) / median(bare) <= 2,
});
const exited = new Promise((r) => launcher.once("exit", r));
launcher.kill("SIGTERM");
await exited;
cleanup(work);
