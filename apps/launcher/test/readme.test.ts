// The README's agentmux session, run exactly as written, in a shell, from the repository root:
// the real Claude Code CLI (as `claude` on PATH) against the testkit's fake Messages API.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { claudeBinary, claudeEnv, type FakeAnthropic, onCleanup, startFakeAnthropic, tempDir } from "@agentmux/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const execFileAsync = promisify(execFile);
const root = join(import.meta.dirname, "..", "..", "..");
const LAUNCHER = join(import.meta.dirname, "..", "dist", "bin.js");
const MARKER = "<!-- the session below is run by apps/launcher/test/readme.test.ts -->";

/** The shell block right after the marker in the root README. */
function readmeSession(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const at = readme.indexOf(MARKER);
  expect(at, "the README lost its tested session marker").toBeGreaterThan(0);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block?.[1]) throw new Error("no ```sh block after the marker");
  return block[1];
}

let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});

describe("the README's session", () => {
  it("runs as written: start, new, send, logs, a message to two agents, look, ls, stop", async () => {
    const env = claudeEnv(fake.url);
    // `claude` on PATH, as a user has it.
    const bin = join(tempDir(), "bin");
    mkdirSync(bin);
    symlinkSync(claudeBinary(), join(bin, "claude"));
    const session = readmeSession();
    const dataDir = join(tempDir(), "data");
    // Whatever happens to the session, no launcher of it outlives the test.
    onCleanup(() => void execFileAsync(process.execPath, [LAUNCHER, "--data-dir", dataDir, "stop"]).catch(() => {}));
    // Asynchronously: the fake model server answers from this very process. No startup files
    // (bash reads them when its stdin looks like a remote login's socket): the session as written.
    const bash = spawn("bash", ["--norc", "--noprofile", "-euo", "pipefail", "-c", session], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...env,
        PATH: `${bin}:${process.env.PATH}`,
        AGENTMUX_DATA_HOME: dataDir,
        XDG_RUNTIME_DIR: tempDir(),
      },
    });
    let out = "";
    let err = "";
    bash.stdout.on("data", (d: Buffer) => {
      out += d;
    });
    bash.stderr.on("data", (d: Buffer) => {
      err += d;
    });
    const [code] = (await once(bash, "exit")) as [number | null];
    expect(code, `the session failed:\n${out}\n${err}`).toBe(0);
    expect(out).toContain("agentmux is running");
    expect(out).toContain(`agent alice created (claude, ${env.HOME}/proj)`);
    expect(out).toMatch(/— turn done: .* in \/ .* out/);
    expect(out).toMatch(/^alice: delivered/m);
    expect(out).toMatch(/^bob: delivered/m);
    // alice may still be answering the message (the ls comes right after it): either is right.
    expect(out).toMatch(/alice\s+claude\s+(idle|working)/);
    expect(out).toContain("agentmux stopped");
    // The model saw the message.
    expect(JSON.stringify(fake.requests)).toContain("fix the failing test");
    expect(JSON.stringify(fake.requests)).toContain("review each other's work");
  }, 150_000);
});
