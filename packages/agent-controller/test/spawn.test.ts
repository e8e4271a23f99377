// An agent that cannot be started: the error names the executable and the PATH the agent was
// given, reaches the status, and the message that asked for the start is kept for the next one.
// Real spawns of names that do not exist, files that are not executable, and then a real CLI.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { standIn, tempDir } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { claude, createSession } from "../src/index.js";
import { closeAfterTest, collect, statusWhere } from "./helpers.js";

const CLI = "agentmux-test-agent-cli";

/** A directory for PATH, and a session that runs `CLI` looked up on it. */
function setup(options: { cwd?: string } = {}) {
  const root = tempDir("agentmux-spawn-");
  const bin = join(root, "bin");
  mkdirSync(bin);
  const PATH = `${bin}:${join(root, "missing")}`;
  const warnings: string[] = [];
  const s = closeAfterTest(
    createSession({
      provider: claude(),
      command: CLI,
      cwd: options.cwd ?? root,
      env: { PATH },
      onWarning: (w) => warnings.push(w),
    }),
  );
  /** Puts the CLI on PATH: a script that runs the echoing stand-in (`mode` 644 = not executable). */
  const install = (mode = 0o755) => {
    const file = join(bin, CLI);
    writeFileSync(file, `#!/bin/sh\nexec '${process.execPath}' '${standIn("misbehaving-cli")}' echo "$@"\n`);
    chmodSync(file, mode);
    return file;
  };
  return { s, PATH, root, install, warnings };
}

describe("starting the agent", () => {
  it("command not found: names the executable and the agent's PATH, keeps the message for the next process", async () => {
    const { s, PATH, install, warnings } = setup();
    const out = collect(s);
    s.send("first");
    const failed = await statusWhere(s, (x) => x.status === "done");
    expect(failed.exitCode).toBe(127);
    expect(failed.fault).toEqual({
      kind: "error",
      fatal: true,
      code: "command_not_found",
      message: `${CLI}: command not found (searched PATH=${PATH})`,
      stderr: [],
    });
    expect(warnings).toContain(failed.fault?.message);
    // Not retried in a loop, not dropped: it waits.
    expect(s.queued).toBe(1);

    // The CLI gets installed; the next send starts it and both messages arrive, in order.
    install();
    s.send("second");
    const ok = await statusWhere(s, (x) => x.status === "running" && x.usage.input_tokens === 2 && !x.turnActive);
    expect(ok.fault).toBeNull();
    const echoed = out
      .json()
      .filter((j) => j.type === "assistant")
      .map((j) => JSON.stringify(j.message).match(/echo:(\w+)/)?.[1]);
    expect(echoed).toEqual(["first", "second"]);
    expect(s.queued).toBe(0);
  });

  it("a file on PATH that is not executable: says which file", async () => {
    const { s, PATH, install } = setup();
    const file = install(0o644);
    s.send("hi");
    const failed = await statusWhere(s, (x) => x.status === "done");
    expect(failed.fault).toMatchObject({
      kind: "error",
      fatal: true,
      code: "command_not_executable",
      message: `${CLI}: permission denied: ${file} is not executable (searched PATH=${PATH})`,
    });
    expect(s.queued).toBe(1);
  });

  it("a script whose interpreter is missing is not reported as a missing command", async () => {
    const { s, root } = setup();
    const file = join(root, "bin", CLI);
    writeFileSync(file, "#!/nonexistent/interpreter --flag\n");
    chmodSync(file, 0o755);
    s.send("hi");
    const failed = await statusWhere(s, (x) => x.status === "done");
    expect(failed.fault).toMatchObject({
      code: "spawn_failed",
      message: `${CLI}: ${file} exists but could not be run: its interpreter /nonexistent/interpreter --flag is missing`,
    });
  });

  it("a working directory that does not exist is not reported as a missing command", async () => {
    const cwd = join(tmpdir(), "agentmux-no-such-dir", String(process.pid));
    const { s, install } = setup({ cwd });
    install();
    s.send("hi");
    const failed = await statusWhere(s, (x) => x.status === "done");
    expect(failed.fault).toMatchObject({
      code: "spawn_failed",
      message: `${CLI}: cannot start in ${cwd}: no such directory`,
    });
  });

  it("a working directory that is a file (spawn throws): reported the same way, send does not throw", async () => {
    const cwd = join(tempDir("agentmux-spawn-"), "a-file");
    writeFileSync(cwd, "");
    const s = closeAfterTest(createSession({ provider: claude(), command: process.execPath, cwd, env: {} }));
    expect(() => s.send("hi")).not.toThrow();
    expect(s.status).toMatchObject({ status: "done", exitCode: 127 });
    expect(s.status.fault).toMatchObject({
      code: "spawn_failed",
      message: `${process.execPath}: cannot start in ${cwd}: not a directory`,
    });
    expect(s.queued).toBe(1);
  });

  it("an environment without PATH: says so, and which default was searched", async () => {
    const s = closeAfterTest(createSession({ provider: claude(), command: CLI, cwd: tmpdir(), env: {} }));
    s.send("hi");
    const failed = await statusWhere(s, (x) => x.status === "done");
    expect(failed.fault?.code).toBe("command_not_found");
    expect(failed.fault?.message).toBe(
      `${CLI}: command not found (the agent's environment sets no PATH; searched the default PATH=/usr/bin:/bin)`,
    );
  });
});
