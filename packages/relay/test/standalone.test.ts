// The package as an embedder uses it on its own: configuration in TOML files, a relay hosted on
// its bundle socket, agents in panes of the real tmux, and the client library on both ends.
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { onCleanup, tempDir, until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { RelayClient } from "../src/client.js";
import { writeStarterFiles } from "../src/config.js";
import { fileDirectory, tmuxTargets } from "../src/file-directory.js";
import { hostRelay } from "../src/host.js";
import { MemoryMailbox } from "../src/mailbox.js";
import { bundlePaths, resolveRoots, secureBundleDir } from "../src/paths.js";
import { RelayServer } from "../src/server.js";
import { TmuxTransport } from "../src/tmux.js";

const uid = process.geteuid?.() ?? 0;

function bundleToml(policy = ""): string {
  return `format-version = 1

[[sessions]]
id = "alpha"
directory = "/tmp"
coder = "pane"
${policy}
[[sessions]]
id = "bravo"
name = "Bravo the builder"
directory = "/tmp"
coder = "pane"
`;
}

const CODERS = `format-version = 1

[[coders]]
id = "pane"
[coders.tmux]
initial-command = "cat"
resume-command = "cat"
prompt-regex = "^ready$|^--agentmux-"
`;

const POLICIES = `format-version = 1

[[policies]]
id = "quiet"
[policies.controls]
find = "self"
list = "all:home"
look = "self"
send = "all:home"
`;

describe("a standalone relay from its configuration files", () => {
  it("delivers a message between two tmux panes, lets one look at the other, and applies a policy edit to the next request", async () => {
    // The roots an app would resolve from its environment (the package reads none itself).
    const roots = resolveRoots({ env: { XDG_STATE_HOME: tempDir(), XDG_CONFIG_HOME: tempDir() }, home: tempDir() });
    await writeStarterFiles(roots.config);
    writeFileSync(join(roots.config, "coders.toml"), CODERS);
    writeFileSync(join(roots.config, "policies.toml"), POLICIES);
    writeFileSync(join(roots.config, "bundles", "crew.toml"), bundleToml());

    const paths = bundlePaths(roots.state, "crew");
    secureBundleDir(paths.dir, { uid });
    const tmuxSocket = join(paths.dir, "tmux.sock");
    for (const session of ["alpha", "bravo"])
      execFileSync("tmux", ["-S", tmuxSocket, "new-session", "-d", "-s", session, "stty -echo; echo ready; exec cat"]);
    onCleanup(() => {
      if (existsSync(tmuxSocket)) execFileSync("tmux", ["-S", tmuxSocket, "kill-server"], { stdio: "ignore" });
    });
    const pane = (session: string) =>
      execFileSync("tmux", ["-S", tmuxSocket, "capture-pane", "-p", "-J", "-t", `=${session}:`], { encoding: "utf8" });

    const targets = tmuxTargets();
    const tmux = new TmuxTransport({
      socketPath: tmuxSocket,
      resolveTarget: targets.resolveTarget,
      quietWindowMs: 100,
    });
    const relay = new RelayServer({
      bundleName: "crew",
      directory: fileDirectory({ configDir: roots.config, bundleName: "crew", tmux, onLoad: targets.update }),
      mailbox: new MemoryMailbox(),
    });
    const hosted = await hostRelay({ paths, uid, bundleName: "crew", onConnection: (s) => relay.handleConnection(s) });
    if (hosted.outcome !== "hosted") throw new Error(`not hosted: ${hosted.reason}`);
    onCleanup(async () => {
      await relay.close();
      await hosted.close();
    });

    const connect = (sessionId: string) =>
      RelayClient.connect({ socketPath: paths.socket, bundleName: "crew", sessionId, clientClass: "agent" });
    const alpha = await connect("alpha");
    const bravo = await connect("bravo");
    onCleanup(() => {
      alpha.close();
      bravo.close();
    });

    const list = await alpha.list();
    expect(list.bundle.sessions.map((s) => s.id)).toEqual(["alpha", "bravo"]);

    const sent = await alpha.send({ message: "build the thing, please", targets: ["bravo"], deliveryMode: "sync" });
    expect(sent).toMatchObject({ status: "success", sender_session: "alpha" });
    expect(sent.results).toEqual([expect.objectContaining({ target_session: "bravo", outcome: "delivered" })]);
    const messageId = sent.results[0]?.message_id as string;
    const shown = await until("the envelope in bravo's pane", () => {
      const text = pane("bravo");
      return text.includes(`--agentmux-${messageId.replaceAll("-", "")}--`) && text;
    });
    expect(shown).toContain(`Message-Id: ${messageId}`);
    expect(shown).toContain("From: alpha <session:alpha>");
    expect(shown).toContain("To: Bravo the builder <session:bravo>");
    expect(shown).toContain("build the thing, please");
    expect(pane("alpha")).not.toContain("build the thing");

    // A display name is never an address.
    await expect(alpha.send({ message: "hi", targets: ["Bravo the builder"] })).rejects.toMatchObject({
      code: "validation_unknown_target",
    });

    const look = await bravo.look("alpha", 5);
    expect(look).toMatchObject({ kind: "look", snapshot_format: "lines" });

    // The files are read again on every request: alpha under look=self may no longer look at bravo.
    writeFileSync(join(roots.config, "bundles", "crew.toml"), bundleToml('policy = "quiet"\n'));
    await expect(alpha.look("bravo")).rejects.toMatchObject({
      code: "authorization_forbidden",
      details: expect.objectContaining({ capability: "look.inspect", target_session: "bravo" }),
    });
    expect(await alpha.look("alpha", 1)).toMatchObject({ kind: "look" });
  });
});
