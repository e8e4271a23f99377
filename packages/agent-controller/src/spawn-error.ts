import { accessSync, closeSync, constants, openSync, readSync, statSync } from "node:fs";
import { delimiter, resolve } from "node:path";
import { AgentSpawnError } from "./errors.js";

/** What was asked of `spawn`: enough to say why it failed. */
export interface SpawnRequest {
  command: string;
  cwd: string;
  /** The child's environment (its PATH is the one the command was looked up on). */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * The search path a spawn with an environment that sets no PATH falls back to (Node documents it
 * for `child_process.spawn` on Unix).
 */
const DEFAULT_SEARCH_PATH = "/usr/bin:/bin";

/** Longest `#!` line worth quoting in a message. */
const SHEBANG_BYTES = 256;

/**
 * Turns a failed spawn into an `AgentSpawnError` that says what to fix. The system error alone
 * ("spawn claude ENOENT") names neither the PATH that was searched (the agent's, which may differ
 * from the app's) nor the other things ENOENT means: a missing working directory, or a script
 * whose `#!` interpreter does not exist. Called only after a spawn failed, so the few file-system
 * checks it makes cost nothing on the normal path.
 */
export function spawnError(err: unknown, request: SpawnRequest): AgentSpawnError {
  const { command, cwd, env } = request;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = err instanceof Error ? err.message : String(err);
  // A command with a slash is a path: no search. Otherwise the child's PATH is searched.
  const searched = command.includes("/") ? null : (env.PATH ?? DEFAULT_SEARCH_PATH);
  const where =
    searched === null
      ? ""
      : env.PATH === undefined
        ? ` (the agent's environment sets no PATH; searched the default PATH=${searched})`
        : ` (searched PATH=${searched})`;
  const fail = (kind: ConstructorParameters<typeof AgentSpawnError>[0], message: string) =>
    new AgentSpawnError(kind, message, command, searched, { cause: err });

  // The child changes into its working directory before it executes anything, and a missing one
  // fails with the same ENOENT as a missing command.
  if (!isDirectory(cwd))
    return fail(
      "spawn_failed",
      `${command}: cannot start in ${cwd}: ${exists(cwd) ? "not a directory" : "no such directory"}`,
    );

  const candidates = searched === null ? [resolve(cwd, command)] : searchPath(searched, cwd, command);
  const found = candidates.find(exists);
  if (code === "ENOENT") {
    if (found === undefined)
      return fail(
        "command_not_found",
        searched === null ? `${command}: no such file` : `${command}: command not found${where}`,
      );
    // The file is there, so what is missing is what it names to run it.
    const interpreter = shebang(found);
    return fail(
      "spawn_failed",
      `${command}: ${found} exists but could not be run: ${
        interpreter === null ? "its loader or interpreter is missing" : `its interpreter ${interpreter} is missing`
      }`,
    );
  }
  if (code === "EACCES") {
    const blocked = candidates.find((c) => exists(c) && !isRunnable(c));
    const what =
      blocked === undefined
        ? ""
        : isDirectory(blocked)
          ? `: ${blocked} is a directory`
          : `: ${blocked} is not executable`;
    return fail("command_not_executable", `${command}: permission denied${what}${where}`);
  }
  return fail("spawn_failed", `${command}: could not start: ${reason}${where}`);
}

/** Where a PATH search for `command` looks, in order (an empty entry is the working directory). */
function searchPath(path: string, cwd: string, command: string): string[] {
  return path.split(delimiter).map((dir) => resolve(cwd, dir === "" ? "." : dir, command));
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isRunnable(path: string): boolean {
  if (isDirectory(path)) return false;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The `#!` line of a script, or null (not a script, or unreadable). */
function shebang(path: string): string | null {
  let fd: number | null = null;
  try {
    fd = openSync(path, "r");
    const head = Buffer.alloc(SHEBANG_BYTES);
    const n = readSync(fd, head, 0, SHEBANG_BYTES, 0);
    const text = head.toString("utf8", 0, n);
    if (!text.startsWith("#!")) return null;
    const end = text.indexOf("\n");
    return text.slice(2, end === -1 ? undefined : end).trim() || null;
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
