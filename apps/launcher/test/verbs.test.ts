// The agent verbs against a real srv started by `agentmux start --detach`, driving the real
// Claude Code CLI against a fake Messages API (the only fake: the model server).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { claudeBinary, claudeEnv, type FakeAnthropic, startFakeAnthropic, tempDir, until } from "@agentmux/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentmux } from "./helpers.js";

let fake: FakeAnthropic;
let dataDir: string;
let env: Record<string, string>;

/** Runs a verb to its end; resolves with its exit code and output. */
async function verb(args: string[]) {
  const l = agentmux(args, { dataDir, env });
  const code = await l.exit;
  return { code, stdout: l.stdout(), stderr: l.stderr() };
}

beforeAll(async () => {
  fake = await startFakeAnthropic();
  dataDir = join(tempDir(), "data");
  env = { ...claudeEnv(fake.url) } as Record<string, string>;
  const started = await verb(["start", "--detach"]);
  expect(started.code).toBe(0);
  expect(started.stdout).toContain("stop it with: agentmux stop");
}, 60_000);

afterAll(async () => {
  await verb(["stop"]);
  await fake.close();
});

describe("agentmux agent …", () => {
  it("new, send (the reply as readable text, then the turn's cost), ls, logs (readable, --raw, --json)", async () => {
    const cwd = tempDir();
    const created = await verb([
      "agent",
      "new",
      "claude",
      "--name",
      "alice",
      "--cwd",
      cwd,
      "--command",
      claudeBinary(),
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("agent alice created");
    const sent = await verb(["agent", "send", "alice", "reply hello from the model"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain("hello from the model");
    expect(sent.stdout).toMatch(/turn done: .* in \/ .* out/);
    const ls = await verb(["agent", "ls"]);
    expect(ls.stdout).toMatch(/alice\s+claude\s+idle/);
    const lsJson = JSON.parse((await verb(["--json", "agent", "ls"])).stdout) as { name: string; sessionId: string }[];
    expect(lsJson[0]).toMatchObject({ name: "alice" });
    expect(lsJson[0]?.sessionId).toBeTruthy();
    const logs = await verb(["agent", "logs", "alice"]);
    expect(logs.stdout).toContain("hello from the model");
    const raw = await verb(["agent", "logs", "alice", "--raw"]);
    const stored = raw.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type?: string });
    expect(stored.some((l) => l.type === "result")).toBe(true);
    const json = await verb(["--json", "agent", "logs", "alice"]);
    const events = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind?: string; type?: string });
    expect(events.length).toBeGreaterThan(1);
  }, 90_000);

  it("logs -f prints what the agent writes next", async () => {
    const follow = agentmux(["agent", "logs", "alice", "-f"], { dataDir, env });
    await until("the backlog", () => follow.stdout().includes("hello from the model"), 20_000);
    expect((await verb(["agent", "send", "alice", "reply second answer", "--no-wait"])).code).toBe(0);
    await until("the live reply", () => follow.stdout().includes("second answer"), 30_000);
    follow.child.kill("SIGINT");
    expect(await follow.exit).toBe(0);
  }, 60_000);

  it("send, list, look: a person messages an agent through srv's relay and reads what it shows", async () => {
    const listed = await verb(["list"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/alice\s+session/);
    const sent = await verb(["send", "--to", "alice", "--message", "reply hi from the shell", "--wait"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^alice: delivered {2}message [0-9a-f-]{36}$/m);
    await until(
      "the agent's reply in look",
      async () => (await verb(["look", "alice", "-n", "200"])).stdout.includes("hi from the shell"),
      30_000,
    );
    const piped = agentmux(["--json", "send", "--to", "alice", "-m", "-"], { dataDir, env, stdin: "reply piped in\n" });
    expect(await piped.exit).toBe(0);
    const accepted = JSON.parse(piped.stdout()) as { status: string; results: { message_id: string }[] };
    expect(accepted).toMatchObject({ status: "accepted", results: [{ outcome: "queued" }] });
    const id = accepted.results[0]?.message_id as string;
    await until("the piped message delivered", async () =>
      new RegExp(`${id}\\s+alice\\s+delivered`).test((await verb(["sent", id])).stdout),
    );

    const nobody = await verb(["send", "--to", "nobody", "-m", "hi"]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain("validation_unknown_target");
    expect((await verb(["send", "--to", "alice"])).code).toBe(2);
    expect((await verb(["look", "alice", "-n", "0"])).code).toBe(2);
    const elsewhere = agentmux(["list"], { dataDir: join(tempDir(), "none"), env });
    expect(await elsewhere.exit).toBe(3);
  }, 90_000);

  it("bad input: an unknown agent (1), a bad provider (2), a missing argument (2), srv not running (3)", async () => {
    const unknown = await verb(["agent", "send", "nobody", "hi"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no agent named "nobody"');
    const provider = await verb(["agent", "new", "clippy", "--name", "x"]);
    expect(provider.code).toBe(2);
    expect(provider.stderr).toContain('unknown provider "clippy"');
    const missing = await verb(["agent", "new", "claude"]);
    expect(missing.code).toBe(2);
    const elsewhere = agentmux(["agent", "ls"], { dataDir: join(tempDir(), "none"), env });
    expect(await elsewhere.exit).toBe(3);
    expect(elsewhere.stderr()).toContain("start it with: agentmux start --detach");
    const dup = await verb(["agent", "new", "claude", "--name", "alice"]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/agent name "alice" is already used by block \S+ in this workspace/);
  }, 60_000);

  it("approve and deny answer the permission request the agent waits on", async () => {
    const cwd = tempDir();
    expect(
      (await verb(["agent", "new", "claude", "--name", "carol", "--cwd", cwd, "--command", claudeBinary()])).code,
    ).toBe(0);
    expect((await verb(["agent", "approve", "carol"])).stderr).toContain("carol is not waiting on any request");
    expect((await verb(["agent", "send", "carol", "tool touch allowed.txt", "--no-wait"])).code).toBe(0);
    await until(
      "carol to ask",
      async () => (await verb(["agent", "ls"])).stdout.match(/carol\s+claude\s+needs input/),
      30_000,
    );
    const approved = await verb(["agent", "approve", "carol"]);
    expect(approved.code, approved.stderr).toBe(0);
    await until("the file", () => existsSync(join(cwd, "allowed.txt")), 30_000);
    await until("carol idle", async () => (await verb(["agent", "ls"])).stdout.match(/carol\s+claude\s+idle/), 30_000);
    expect((await verb(["agent", "send", "carol", "tool touch denied.txt", "--no-wait"])).code).toBe(0);
    await until(
      "carol to ask again",
      async () => (await verb(["agent", "ls"])).stdout.match(/carol\s+claude\s+needs input/),
      30_000,
    );
    const denied = await verb(["agent", "deny", "carol", "--message", "not that one"]);
    expect(denied.code, denied.stderr).toBe(0);
    await until(
      "carol idle again",
      async () => (await verb(["agent", "ls"])).stdout.match(/carol\s+claude\s+idle/),
      30_000,
    );
    expect(existsSync(join(cwd, "denied.txt"))).toBe(false);
    expect((await verb(["agent", "rm", "carol"])).code).toBe(0);
  }, 120_000);

  it("workspace and tab ls/new/rm, and events", async () => {
    expect((await verb(["workspace", "new", "review"])).code).toBe(0);
    expect((await verb(["workspace", "ls"])).stdout).toMatch(/^review\s+0\s+/m);
    expect((await verb(["tab", "new", "checks", "--workspace", "review"])).code).toBe(0);
    const tabs = JSON.parse((await verb(["--json", "tab", "ls", "--workspace", "review"])).stdout) as {
      name: string;
    }[];
    expect(tabs.map((t) => t.name)).toEqual(["checks"]);
    expect((await verb(["tab", "rm", "checks", "--workspace", "review", "--force"])).code).toBe(0);
    expect((await verb(["workspace", "rm", "review"])).code).toBe(0);
    expect((await verb(["workspace", "ls"])).stdout).not.toMatch(/^review\s/m);
    expect((await verb(["workspace", "rm", "review"])).stderr).toContain('no workspace "review"');
    const evs = (await verb(["--json", "events", "--since", "0"])).stdout.trim().split("\n");
    const kinds = evs.map((l) => (JSON.parse(l) as { event: string }).event);
    expect(kinds).toEqual(
      expect.arrayContaining(["workspace_created", "tab_created", "tab_deleted", "workspace_deleted"]),
    );
    const versions = evs.map((l) => (JSON.parse(l) as { version: number }).version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  }, 60_000);

  it("completion: a bash script made from the command tree completes commands, subcommands and options", async () => {
    const script = join(tempDir(), "completion.sh");
    writeFileSync(script, (await verb(["completion", "bash"])).stdout);
    const complete = (...words: string[]) =>
      execFileSync(
        "bash",
        [
          "-c",
          `source ${script}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(" ")}); COMP_CWORD=${words.length - 1}; _agentmux; echo "\${COMPREPLY[@]}"`,
        ],
        { encoding: "utf8" },
      ).trim();
    expect(complete("agentmux", "ag")).toBe("agent");
    expect(complete("agentmux", "agent", "").split(" ")).toEqual(
      expect.arrayContaining(["new", "send", "logs", "approve"]),
    );
    expect(complete("agentmux", "agent", "logs", "alice", "--").split(" ")).toEqual(["--follow", "--since", "--raw"]);
    expect((await verb(["completion", "fish"])).code).toBe(2);
  });

  it("completion: the zsh script completes through zsh's own bashcompinit", async () => {
    const script = join(tempDir(), "completion.zsh");
    writeFileSync(script, (await verb(["completion", "zsh"])).stdout);
    // zsh's real completion machinery (compinit, bashcompinit's _bash_complete and compgen) runs;
    // only compadd, the builtin that exists inside a completion widget alone, is stood in for:
    // it prints the candidates that match the word being completed, as the widget would offer.
    const driver = join(tempDir(), "drive.zsh");
    writeFileSync(
      driver,
      `autoload -U compinit && compinit -u -D
source ${script}
compadd() {
  local -a cands
  while (( $# )); do
    case $1 in
      -a) shift; cands+=(\${(P)1}) ;;
      -) shift; cands+=("$@"); break ;;
    esac
    shift
  done
  for c in $cands; do [[ $c == "$PREFIX"* ]] && print -- $c; done
  return 0
}
words=(agentmux "$@"); CURRENT=\${#words}; PREFIX=\${words[CURRENT]}
_bash_complete -F _agentmux
`,
    );
    const complete = (...words: string[]) =>
      execFileSync("zsh", ["-f", driver, ...words], { encoding: "utf8" })
        .trim()
        .split("\n")
        .sort();
    expect(complete("ag")).toEqual(["agent"]);
    expect(complete("agent", "")).toEqual(expect.arrayContaining(["new", "send", "logs", "approve"]));
    expect(complete("agent", "logs", "alice", "--")).toEqual(["--follow", "--raw", "--since"]);
  });

  it("top draws the fleet, and draws it again as agents change, with their last lines", async () => {
    const view = agentmux(["top"], { dataDir, env });
    await until("the first frame", () => /alice\s+claude\s+idle/.test(view.stdout()), 20_000);
    expect((await verb(["agent", "send", "alice", "reply a line for top", "--no-wait"])).code).toBe(0);
    await until("alice's last line", () => /last lines:\n {2}alice: .*a line for top/.test(view.stdout()), 30_000);
    expect(view.stdout().split("agentmux top — ").length).toBeGreaterThan(2);
    // An agent created while top runs joins the view, last line and all.
    const late = ["agent", "new", "claude", "--name", "bob", "--cwd", tempDir(), "--command", claudeBinary()];
    expect((await verb(late)).code).toBe(0);
    await until("bob in the view", () => /bob\s+claude\s+new/.test(view.stdout()), 20_000);
    expect((await verb(["agent", "send", "bob", "reply bob speaks late", "--no-wait"])).code).toBe(0);
    await until("bob's last line", () => / {2}bob: .*bob speaks late/.test(view.stdout()), 30_000);
    expect((await verb(["agent", "rm", "bob"])).code).toBe(0);
    view.child.kill("SIGINT");
    expect(await view.exit).toBe(0);
  }, 60_000);

  it("stop and rm", async () => {
    expect((await verb(["agent", "stop", "alice"])).code).toBe(0);
    const ls = await verb(["agent", "ls"]);
    expect(ls.stdout).toMatch(/alice\s+claude\s+stopped/);
    expect((await verb(["agent", "rm", "alice"])).code).toBe(0);
    expect((await verb(["agent", "ls"])).stdout).toContain("no agents yet");
    expect(readFileSync(join(dataDir, "launcher", "run.json"), "utf8")).toContain("launcher_pid");
  }, 60_000);
});
