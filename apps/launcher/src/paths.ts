import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** `--data-dir`, else `$AGENTMUX_DATA_HOME`, else `$XDG_DATA_HOME/agentmux` (`~/.local/share/agentmux`), as srv resolves it. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return resolve(
    flag ?? env.AGENTMUX_DATA_HOME ?? join(env.XDG_DATA_HOME ?? join(homedir(), ".local", "share"), "agentmux"),
  );
}

/** Where the launcher keeps its files inside the data dir. */
export function launcherPaths(dataDir: string) {
  const dir = join(dataDir, "launcher");
  return {
    dir,
    /** What the running launcher and its srv are (see run-file.ts). */
    runFile: join(dir, "run.json"),
    /** This run's auth key (mode 0600). */
    keyFile: join(dir, "auth.key"),
    /** The output of a `start --detach`ed launcher. */
    logFile: join(dir, "launcher.log"),
    /**
     * The single-instance lock: an abstract Unix socket on Linux (the kernel frees it when the
     * launcher dies, however it dies), else a socket file beside the run file.
     */
    lockSocket:
      process.platform === "linux"
        ? `\0agentmux-launcher-${createHash("sha256").update(dataDir).digest("hex").slice(0, 24)}`
        : join(dir, "launcher.sock"),
  };
}
