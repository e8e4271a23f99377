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
    lockSocket: process.platform === "linux" ? `\0agentmux-launcher-${fnv1a64(dataDir)}` : join(dir, "launcher.sock"),
  };
}

/**
 * FNV-1a, 64 bits, of the UTF-8 bytes, as 16 hex digits: the lock socket's name only has to be
 * stable for a data dir and unlikely to collide with another data dir's on the same machine, so a
 * plain hash does. Not node:crypto: loading it costs every verb ~8 ms of start-up. Written here
 * rather than imported from srv (which has the same function), whose code the launcher never links.
 */
export function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, "0");
}
