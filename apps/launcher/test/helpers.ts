import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { onCleanup, tempDir } from "@agentmux/testkit";

const BIN = join(import.meta.dirname, "..", "dist", "bin.js");

export interface Launcher {
  child: ChildProcess;
  dataDir: string;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Runs `agentmux <args>` on `dataDir` (a fresh one by default), output collected; `stdin` is written, then closed. */
export function agentmux(
  args: string[],
  options: { dataDir?: string; env?: Record<string, string>; stdin?: string } = {},
): Launcher {
  const dataDir = options.dataDir ?? join(tempDir(), "data");
  const child = spawn(process.execPath, [BIN, "--data-dir", dataDir, ...args], {
    env: { ...process.env, XDG_RUNTIME_DIR: tempDir(), ...options.env },
    stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d;
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d;
  });
  const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  // No launcher (and so no srv) outlives its test: stopped as a person would, and waited for.
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exit;
    }
  });
  return { child, dataDir, stdout: () => stdout, stderr: () => stderr, exit };
}
