// `agentmux start` and its supervision, with real processes: the real srv, and a stand-in srv
// for the timing cases of its stderr protocol.
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { groupMembers, isRunning, stubbornAgent, tempDir, until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { RunFile } from "../src/run-file.js";
import { findSrv, srvCandidates } from "../src/srv-bin.js";
import { agentmux, type Launcher } from "./helpers.js";

const STANDIN = join(import.meta.dirname, "fixtures", "standin-srv.mjs");

const runFile = (dataDir: string) =>
  RunFile.parse(JSON.parse(readFileSync(join(dataDir, "launcher", "run.json"), "utf8")));

async function finished(l: Launcher): Promise<{ code: number | null; stdout: string }> {
  const code = await l.exit;
  return { code, stdout: l.stdout() };
}

async function ready(l: Launcher): Promise<RunFile> {
  await until("the launcher to be ready", () => l.stdout().includes("Ctrl-C stops it."), 30_000);
  return runFile(l.dataDir);
}

function standin(mode: string, extra: Record<string, string> = {}) {
  const pidFile = join(tempDir(), "standin.pid");
  return {
    pidFile,
    env: { AGENTMUX_SRV_BIN: STANDIN, AGENTMUX_STANDIN_MODE: mode, AGENTMUX_STANDIN_PIDFILE: pidFile, ...extra },
  };
}

describe("finding srv", () => {
  it("looks at $AGENTMUX_SRV_BIN, then srv installed beside the launcher, then the workspace build", () => {
    const here = join(tempDir(), "nowhere", "dist");
    const env = { AGENTMUX_SRV_BIN: "/no/such/srv.js" };
    const installed = () => "/opt/lib/node_modules/@agentmux/srv/dist/bin.js";
    expect(srvCandidates(env, here, installed)).toEqual([
      "/no/such/srv.js",
      "/opt/lib/node_modules/@agentmux/srv/dist/bin.js",
      join(here, "..", "..", "srv", "dist", "bin.js"),
    ]);
    const none = () => undefined;
    const candidates = srvCandidates({}, here, none);
    expect(candidates).toEqual([
      join(here, "..", "node_modules", "@agentmux", "srv", "dist", "bin.js"),
      join(here, "..", "..", "srv", "dist", "bin.js"),
    ]);
    expect(() => findSrv(env, here, none)).toThrow(
      `agentmux-srv not found; looked at:\n  /no/such/srv.js\n  ${candidates.join("\n  ")}\n`,
    );
    // The real search finds this workspace's build.
    expect(findSrv({})).toMatch(/srv\/dist\/bin\.js$/);
  });
});

describe("agentmux start", () => {
  it("starts srv with a fresh key, writes the run file, answers status, and stops cleanly on SIGTERM", async () => {
    const l = agentmux(["start"]);
    const run = await ready(l);
    expect(run.launcher_pid).toBe(l.child.pid);
    expect(isRunning(run.srv_pid)).toBe(true);
    expect(statSync(run.key_file).mode & 0o777).toBe(0o600);
    const key = readFileSync(run.key_file, "utf8").trim();
    const res = await fetch(`http://${run.web}/api/v1/command`, {
      method: "POST",
      headers: { "x-authkey": key },
      body: JSON.stringify({ cmd: "get_srv_snapshot" }),
    });
    expect(res.status).toBe(200);
    const status = agentmux(["--json", "status"], { dataDir: l.dataDir });
    expect(await status.exit).toBe(0);
    expect(JSON.parse(status.stdout())).toMatchObject({ running: true, srv_pid: run.srv_pid, web: run.web });
    l.child.kill("SIGTERM");
    expect(await l.exit).toBe(0);
    expect(isRunning(run.srv_pid)).toBe(false);
    expect(existsSync(join(l.dataDir, "launcher", "run.json"))).toBe(false);
    // A new run, a new key.
    const again = agentmux(["start"], { dataDir: l.dataDir });
    const run2 = await ready(again);
    expect(readFileSync(run2.key_file, "utf8").trim()).not.toBe(key);
  }, 60_000);

  it("no ESTART in time: srv is killed and the launcher exits 1", async () => {
    const s = standin("silent");
    const l = agentmux(["start"], { env: { ...s.env, AGENTMUX_READY_TIMEOUT_MS: "500" } });
    expect(await l.exit).toBe(1);
    expect(l.stderr()).toMatch(/not ready within 0.5 s/);
    expect(isRunning(Number(readFileSync(s.pidFile, "utf8")))).toBe(false);
  }, 30_000);

  it("a bad AGENTMUX_READY_TIMEOUT_MS is a usage error (exit 2) that names the variable and the rule", async () => {
    for (const bad of ["abc", "5", "1.5"]) {
      const l = agentmux(["start"], { env: { AGENTMUX_READY_TIMEOUT_MS: bad } });
      expect(await l.exit).toBe(2);
      expect(l.stderr()).toContain(`AGENTMUX_READY_TIMEOUT_MS=${bad}: must be a whole number of milliseconds`);
    }
  }, 30_000);

  it("MIGRATING extends the deadline: an ESTART after it is still accepted, with a progress line", async () => {
    const s = standin("slow-migration", { AGENTMUX_STANDIN_DELAY_MS: "1500" });
    const l = agentmux(["start"], { env: { ...s.env, AGENTMUX_READY_TIMEOUT_MS: "500" } });
    const run = await ready(l);
    expect(run.version).toBe("0.0.0-standin");
    // A data dir srv never opened is being set up; one it has opened (it has `db/`) is migrated.
    expect(l.stderr()).toContain("setting up the data dir (1 migration)…");
    l.child.kill("SIGTERM");
    expect(await l.exit).toBe(0);
    mkdirSync(join(l.dataDir, "db"), { recursive: true });
    const again = agentmux(["start"], { dataDir: l.dataDir, env: { ...s.env, AGENTMUX_READY_TIMEOUT_MS: "500" } });
    await ready(again);
    expect(again.stderr()).toContain("migrating the data dir (1 migration)…");
    again.child.kill("SIGTERM");
    expect(await again.exit).toBe(0);
  }, 30_000);

  it("a stop while srv is still starting (migrating) kills it and exits at once", async () => {
    const s = standin("slow-migration", { AGENTMUX_STANDIN_DELAY_MS: "60000" });
    const l = agentmux(["start"], { env: s.env });
    await until("the migration to start", () => l.stderr().includes("the data dir (1 migration)"), 20_000);
    l.child.kill("SIGTERM");
    expect(await l.exit).toBe(0);
    expect(isRunning(Number(readFileSync(s.pidFile, "utf8")))).toBe(false);
    expect(existsSync(join(l.dataDir, "launcher", "run.json"))).toBe(false);
  }, 30_000);

  it("MIGRATION-FAILED fails at once with srv's reason, and srv is killed", async () => {
    const s = standin("migration-failed");
    const started = Date.now();
    const l = agentmux(["start"], { env: s.env });
    expect(await l.exit).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(l.stderr()).toContain("srv's migration failed: table db_client already exists");
    expect(isRunning(Number(readFileSync(s.pidFile, "utf8")))).toBe(false);
  }, 30_000);

  it("srv's stderr ending before ESTART is a failure that quotes srv's last words", async () => {
    const l = agentmux(["start"], { env: standin("eof").env });
    expect(await l.exit).toBe(1);
    expect(l.stderr()).toMatch(/srv stopped before it was ready; its last words:\n {2}fatal: cannot open the store/);
  }, 30_000);

  it("a protocol word not at the start of a line is not taken for ESTART", async () => {
    const s = standin("not-protocol");
    const l = agentmux(["start"], { env: { ...s.env, AGENTMUX_READY_TIMEOUT_MS: "500" } });
    expect(await l.exit).toBe(1);
    expect(l.stdout()).not.toContain("Ctrl-C stops it.");
  }, 30_000);

  it("one launcher per data dir: a second says where the first runs and exits 0; two at once leave one running", async () => {
    const first = agentmux(["start"]);
    const run = await ready(first);
    const second = agentmux(["start"], { dataDir: first.dataDir });
    expect(await second.exit).toBe(0);
    expect(second.stdout()).toContain(`already running (launcher pid ${run.launcher_pid})`);
    first.child.kill("SIGTERM");
    expect(await first.exit).toBe(0);
    const a = agentmux(["start"], { dataDir: first.dataDir });
    const b = agentmux(["start"], { dataDir: first.dataDir });
    const loser = await Promise.race([a.exit.then(() => a), b.exit.then(() => b)]);
    const winner = loser === a ? b : a;
    expect(await loser.exit).toBe(0);
    expect(loser.stdout()).toMatch(/already running|another launcher is starting/);
    const live = await ready(winner);
    expect(live.launcher_pid).toBe(winner.child.pid);
  }, 60_000);

  it("kill -9 of the launcher: srv and its agents are gone within 2 s, and a relaunch works", async () => {
    const l = agentmux(["start"]);
    const run = await ready(l);
    const agent = await stubbornAgent(run.pipe as string);
    l.child.kill("SIGKILL");
    await until("srv to exit", () => !isRunning(run.srv_pid), 2000);
    await until("the agent's group to be gone", () => groupMembers(agent.pgid).length === 0, 2000);
    const again = agentmux(["start"], { dataDir: l.dataDir });
    await ready(again);
  }, 60_000);

  it("srv crashing is restarted, and verbs work again on the new srv", async () => {
    const l = agentmux(["start"]);
    const run = await ready(l);
    process.kill(run.srv_pid, "SIGKILL");
    await until("srv restarted", () => l.stdout().includes("srv restarted"), 20_000);
    const after = runFile(l.dataDir);
    expect(after.srv_pid).not.toBe(run.srv_pid);
    expect(l.stderr()).toContain("srv crashed (signal SIGKILL); restarting");
    const ls = agentmux(["agent", "ls"], { dataDir: l.dataDir });
    expect(await ls.exit).toBe(0);
    expect(ls.stdout()).toContain("no agents yet");
  }, 60_000);

  it("a verb waiting on srv when srv dies fails at once with exit 3, not hanging", async () => {
    const l = agentmux(["start"]);
    const run = await ready(l);
    const agent = await stubbornAgent(run.pipe as string);
    expect(agent.pgid).toBeGreaterThan(0);
    // The stubborn agent's turn never ends: `agent send` waits on it.
    const names = JSON.parse((await finished(agentmux(["--json", "agent", "ls"], { dataDir: l.dataDir }))).stdout) as {
      blockId: string;
    }[];
    const waiting = agentmux(["agent", "send", names[0]?.blockId as string, "more"], { dataDir: l.dataDir });
    // The agent took the message (it starts one more child per message): the send now waits on the turn.
    await until("the agent to take the message", () => groupMembers(agent.pgid).length === 3, 20_000);
    process.kill(run.srv_pid, "SIGKILL");
    expect(await waiting.exit).toBe(3);
    expect(waiting.stderr()).toContain("the connection to srv closed");
  }, 60_000);

  it("srv crashing more than 3 times in 120 s: the launcher gives up, exit 1, with srv's last lines", async () => {
    const l = agentmux(["start"]);
    for (let i = 0; i < 4; i++) {
      const run = await until("a running srv", () => {
        try {
          const r = runFile(l.dataDir);
          return isRunning(r.srv_pid) && r;
        } catch {
          return undefined;
        }
      });
      process.kill(run.srv_pid, "SIGKILL");
      if (i < 3) await until("the restart", () => l.stdout().split("srv restarted").length > i + 1, 20_000);
    }
    expect(await l.exit).toBe(1);
    expect(l.stderr()).toMatch(/srv crashed \(signal SIGKILL\) 4 times within 120 s; giving up/);
  }, 90_000);
});
