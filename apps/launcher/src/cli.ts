// agentmux: starts and supervises agentmux-srv, and drives a fleet of agents from the shell.
// Verbs talk to the running srv over its Unix socket with the common-ipc protocol; srv's code is
// never linked (it is found, spawned and spoken to). Each verb's code loads when it runs, so a
// verb pays only for what it needs.
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { EXIT, LauncherError } from "./errors.js";
import { launcherPaths, resolveDataDir } from "./paths.js";
import type { VerbContext } from "./verbs/common.js";

// Loaded by the verbs that use them: `--help` loads no zod and builds no schema; the run file's
// schema (zod/mini) comes with the verbs that read it. The whole of classic zod would add ~40 ms
// to every verb's start, so nothing here reaches it.
const verbs = () => import("./verbs/agent.js");
const fleetVerbs = () => import("./verbs/fleet.js");
const supervise = () => import("./supervise.js");
const runFile = () => import("./run-file.js");

declare const __LAUNCHER_VERSION__: string;

const out = (text: string) => process.stdout.write(`${text}\n`);
const err = (text: string) => process.stderr.write(`${text}\n`);

const program = new Command("agentmux")
  .description("Run AI coding agents side by side: start agentmux-srv, then create, drive, watch and stop agents.")
  .version(__LAUNCHER_VERSION__)
  .option("--data-dir <dir>", "data dir (default: $AGENTMUX_DATA_HOME, else $XDG_DATA_HOME/agentmux)")
  .option("--json", "machine-readable output")
  .showHelpAfterError()
  .exitOverride();

const dataDir = () => resolveDataDir(program.opts<{ dataDir?: string }>().dataDir, process.env);
const ctx = (): VerbContext => ({ dataDir: dataDir(), json: program.opts<{ json?: boolean }>().json === true, out });

program
  .command("start")
  .description("start agentmux-srv and supervise it (Ctrl-C stops it); with --detach, return once it is ready")
  .option("--instance <name>", "instance name", "default")
  .option("--detach", "run in the background and return once srv is ready")
  .option("--host <command>", "a program to run beside srv, given its endpoints and key in AGENTMUX_* variables")
  .action(async (opts: { instance: string; detach?: boolean; host?: string }) => {
    const settings = (await import("./env.js")).startSettings(process.env);
    if (opts.detach) {
      process.exitCode = await detach(opts.instance, opts.host);
      return;
    }
    const { runStart } = await supervise();
    process.exitCode = await runStart({
      dataDir: dataDir(),
      instance: opts.instance,
      env: process.env,
      ...settings,
      ...(opts.host === undefined ? {} : { host: opts.host }),
      out,
      err,
    });
  });

program
  .command("stop")
  .description("stop the running agentmux (srv stops its agents first)")
  .action(async () => {
    const { isAlive, readRunFile } = await runFile();
    const run = readRunFile(dataDir());
    if (!run) throw notRunning();
    process.kill(run.launcher_pid, "SIGTERM");
    const deadline = Date.now() + 10_000;
    while (isAlive(run.launcher_pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (isAlive(run.launcher_pid))
      throw new LauncherError("srv_error", `launcher pid ${run.launcher_pid} did not stop within 10 s`);
    out(ctx().json ? JSON.stringify({ stopped: true }) : "agentmux stopped");
  });

program
  .command("status")
  .description("whether agentmux runs, where, since when")
  .action(async () => {
    const run = (await runFile()).readRunFile(dataDir());
    const { describeRun } = await supervise();
    if (ctx().json) out(JSON.stringify(run ? { running: true, ...run } : { running: false }));
    else out(run ? `${describeRun(run)}\n  since      ${run.started_at}` : `agentmux is not running on ${dataDir()}`);
    if (!run) process.exitCode = EXIT.notRunning;
  });

program
  .command("dashboard")
  .description("print a new one-time link that logs a browser into the dashboard")
  .action(async () => {
    const run = (await runFile()).readRunFile(dataDir());
    if (!run) throw notRunning();
    const url = await (await import("./dashboard.js")).dashboardLink(run);
    out(ctx().json ? JSON.stringify({ url }) : url);
  });

const agent = program.command("agent").description("create, drive, watch and stop agents");
agent
  .command("new <provider>")
  .description("create an agent (claude, codex, gemini or acp); it starts on its first message")
  .requiredOption("--name <name>", "its name, unique in the workspace")
  .option("--cwd <dir>", "its working directory (default: here; created when missing)")
  .option("--workspace <name|id>", "the workspace (default: the first)")
  .option("--command <path>", "the CLI to run (default: the provider's command on PATH)")
  .argument("[args...]", "extra arguments for the CLI (after --)")
  .action(
    async (
      provider: string,
      args: string[],
      opts: { name: string; cwd?: string; workspace?: string; command?: string },
    ) => {
      if (!["claude", "codex", "gemini", "acp"].includes(provider))
        throw new LauncherError("usage", `unknown provider "${provider}" (claude, codex, gemini or acp)`, EXIT.usage);
      await (await verbs()).agentNew(ctx(), provider, { ...opts, args });
    },
  );
agent
  .command("ls")
  .description("every agent: status, session, tokens, cost")
  .action(async () => (await verbs()).agentLs(ctx()));
agent
  .command("send <name> <message>")
  .description('send a message ("-" reads it from stdin) and print the reply as it comes, until the turn ends')
  .option("--no-wait", "return once it is sent")
  .action(async (name: string, message: string, opts: { wait: boolean }) => {
    const text = message === "-" ? readFileSync(0, "utf8") : message;
    await (await verbs()).agentSend(ctx(), name, text, opts.wait);
  });
agent
  .command("logs <name>")
  .description("the agent's transcript, readable (or --raw lines); -f keeps following it")
  .option("-f, --follow", "keep printing what it writes")
  .option("--since <offset>", "from this byte offset", "0")
  .option("--raw", "the stored lines as they are")
  .action(async (name: string, opts: { follow?: boolean; since: string; raw?: boolean }) =>
    (await verbs()).agentLogs(ctx(), name, opts.follow === true, Number(opts.since) || 0, opts.raw === true),
  );
agent
  .command("stop <name>")
  .description("stop the agent's process (its conversation resumes on the next message)")
  .option("--force", "SIGKILL at once")
  .action(async (name: string, opts: { force?: boolean }) =>
    (await verbs()).agentControl(ctx(), name, "stop", opts.force === true),
  );
agent
  .command("interrupt <name>")
  .description("interrupt the running turn")
  .action(async (name: string) => (await verbs()).agentControl(ctx(), name, "interrupt"));
agent
  .command("rm <name>")
  .description("stop the agent and delete it with its transcript")
  .action(async (name: string) => (await verbs()).agentRm(ctx(), name));

for (const [verb, decision] of [
  ["approve", "allow"],
  ["deny", "deny"],
] as const) {
  agent
    .command(`${verb} <name> [request-id]`)
    .description(`${verb} the permission request the agent waits on (the only one, or the one named)`)
    .option("--message <text>", "a reason the agent reads")
    .action(async (name: string, requestId: string | undefined, opts: { message?: string }) =>
      (await verbs()).agentRespond(ctx(), name, decision, requestId, opts.message),
    );
}

const workspace = program.command("workspace").description("list, create and remove workspaces");
workspace
  .command("ls")
  .description("every workspace")
  .action(async () => (await fleetVerbs()).workspaceLs(ctx()));
workspace
  .command("new <name>")
  .description("a new workspace")
  .action(async (name: string) => (await fleetVerbs()).workspaceNew(ctx(), name));
workspace
  .command("rm <name|id>")
  .description("remove a workspace with its tabs and agents")
  .option("--force", "even its last tab")
  .action(async (which: string, opts: { force?: boolean }) =>
    (await fleetVerbs()).workspaceRm(ctx(), which, opts.force === true),
  );

const tab = program.command("tab").description("list, create and remove tabs");
tab
  .command("ls")
  .description("every tab (of one workspace with --workspace)")
  .option("--workspace <name|id>", "only this workspace's")
  .action(async (opts: { workspace?: string }) => (await fleetVerbs()).tabLs(ctx(), opts.workspace));
tab
  .command("new [name]")
  .description("a new tab (in the first workspace, or --workspace)")
  .option("--workspace <name|id>", "where")
  .action(async (name: string | undefined, opts: { workspace?: string }) =>
    (await fleetVerbs()).tabNew(ctx(), name ?? "", opts.workspace),
  );
tab
  .command("rm <name|id>")
  .description("remove a tab with its agents")
  .option("--workspace <name|id>", "the tab's workspace")
  .option("--force", "even a workspace's last tab")
  .action(async (which: string, opts: { workspace?: string; force?: boolean }) =>
    (await fleetVerbs()).tabRm(ctx(), which, opts.workspace, opts.force === true),
  );

program
  .command("top")
  .description("a live view of every agent (status, session, tokens, cost), redrawn as things change")
  .action(async () => (await import("./verbs/top.js")).top(ctx()));

program
  .command("events")
  .description("srv's events (version, kind, fields), from the start or --since; -f keeps following")
  .option("--since <version>", "after this version", "0")
  .option("-f, --follow", "keep printing new events")
  .action(async (opts: { since: string; follow?: boolean }) =>
    (await fleetVerbs()).events(ctx(), Number(opts.since) || 0, opts.follow === true),
  );

const relayVerbs = () => import("./verbs/relay.js");
program
  .command("send")
  .description("send a message to agents, as yourself (the relay's `human` session)")
  .requiredOption("--to <name...>", "the agents to send to")
  .option("-m, --message <text>", "the message; - reads it from stdin")
  .option("--wait", "wait until each agent took it (else return once it is queued)")
  .action(async (opts: { to: string[]; message?: string; wait?: boolean }) =>
    (await relayVerbs()).send(ctx(), {
      to: opts.to,
      wait: opts.wait === true,
      ...(opts.message === undefined ? {} : { message: opts.message }),
    }),
  );
program
  .command("sent <message-id...>")
  .description("where messages you sent are now (pending, delivering, delivered, failed)")
  .action(async (ids: string[]) => (await relayVerbs()).sent(ctx(), ids));
program
  .command("list")
  .description("the agents messages can be sent to")
  .action(async () => (await relayVerbs()).list(ctx()));
program
  .command("look <name>")
  .description("the last lines of what an agent said and did")
  .option("-n, --lines <n>", "how many lines (1-1000)", "40")
  .action(async (name: string, opts: { lines: string }) => {
    const lines = Number(opts.lines);
    if (!Number.isInteger(lines) || lines < 1 || lines > 1000)
      throw new LauncherError(
        "usage",
        `--lines must be a whole number from 1 to 1000, got "${opts.lines}"`,
        EXIT.usage,
      );
    await (await relayVerbs()).look(ctx(), name, lines);
  });

program
  .command("completion <shell>")
  .description("print a completion script for bash or zsh (e.g. source <(agentmux completion bash))")
  .action(async (shell: string) => {
    if (shell !== "bash" && shell !== "zsh")
      throw new LauncherError("usage", `no completion for "${shell}" (bash or zsh)`, EXIT.usage);
    const { completionScript } = await import("./completion.js");
    out(completionScript(program, shell));
  });

function notRunning(): LauncherError {
  return new LauncherError(
    "not_running",
    `agentmux is not running on ${dataDir()}; start it with: agentmux start --detach`,
    EXIT.notRunning,
  );
}

/** Starts a launcher in the background (output to launcher.log) and returns once its srv is ready. */
async function detach(instance: string, host: string | undefined): Promise<number> {
  const dir = dataDir();
  const paths = launcherPaths(dir);
  const { readRunFile } = await runFile();
  const running = readRunFile(dir);
  const { describeRun } = await supervise();
  if (running) {
    out(`already running (launcher pid ${running.launcher_pid})\n${describeRun(running)}`);
    return EXIT.ok;
  }
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  // Loaded here: no other verb spawns anything, and child_process costs every start ~4 ms.
  const { spawn } = await import("node:child_process");
  const log = openSync(paths.logFile, "a");
  const args = ["--data-dir", dir, "start", "--instance", instance, ...(host === undefined ? [] : ["--host", host])];
  const child = spawn(process.execPath, [process.argv[1] as string, ...args], {
    detached: true,
    stdio: ["ignore", log, log],
    env: process.env,
  });
  closeSync(log);
  child.unref();
  let exited: number | null = null;
  child.once("exit", (code) => {
    exited = code ?? 1;
  });
  for (;;) {
    const run = readRunFile(dir);
    if (run && run.launcher_pid === child.pid) {
      out(`${describeRun(run)}\n\nstop it with: agentmux stop`);
      return EXIT.ok;
    }
    if (exited !== null) {
      const tail = readFileSync(paths.logFile, "utf8").trimEnd().split("\n").slice(-10).join("\n");
      err(`agentmux: the background launcher exited (${exited}):\n${tail}`);
      return exited === 0 ? EXIT.ok : EXIT.failed;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  else if (e instanceof LauncherError) {
    err(`agentmux: ${e.message}`);
    process.exitCode = e.exitCode;
  } else throw e;
}
