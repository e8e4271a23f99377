/**
 * Where the relay keeps its files, and the checks that make them safe to use
 * on a machine shared with other users (relay.md §1). Nothing here reads the
 * environment or the process's uid: the caller passes them in.
 */
import { closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, type Stats } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { RelayError } from "./errors.js";
import { validateBundleName } from "./names.js";

/** The three roots every agentmux process agrees on. */
export interface RuntimeRoots {
  /** `coders.toml`, `policies.toml`, `tui.toml`, `bundles/*.toml`. */
  readonly config: string;
  /** Per-bundle runtime files (sockets, locks, session state). */
  readonly state: string;
  /** JSON-lines logs ("inscriptions"). */
  readonly logs: string;
}

/** Roots given on the command line (`--config-directory`, `--state-directory`, `--inscriptions-directory`). */
export interface RootFlags {
  readonly config?: string;
  readonly state?: string;
  readonly logs?: string;
}

export interface ResolveRootsOptions {
  readonly flags?: RootFlags;
  /** The environment to read `XDG_CONFIG_HOME`, `XDG_STATE_HOME` and `HOME` from (the app passes `process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The home directory; overrides `env.HOME` (e.g. `os.homedir()` at the app edge). */
  readonly home?: string;
}

const APP_DIR = "agentmux";

/** A value that is missing, empty or only whitespace counts as unset (relay.md §1). */
function present(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/**
 * An XDG base directory, or undefined when unset. The XDG spec says a relative
 * path in these variables is invalid and must be ignored; taking it would put
 * sockets wherever the process happened to start.
 */
function xdg(value: string | undefined): string | undefined {
  const v = present(value);
  return v !== undefined && isAbsolute(v) ? v : undefined;
}

/**
 * Resolves the config, state and logs roots: CLI flag, then the XDG variable,
 * then the HOME default (relay.md §1; the debug repo-local row is left to the
 * app). HOME is only needed, and only required, when a root falls back to it.
 */
export function resolveRoots(options: ResolveRootsOptions): RuntimeRoots {
  const { flags = {}, env } = options;
  const home = (): string => {
    const h = present(options.home) ?? present(env.HOME);
    if (h === undefined) throw new RelayError("runtime_home_unavailable", "home directory is unavailable; set HOME");
    return h;
  };
  const config = present(flags.config) ?? joinApp(xdg(env.XDG_CONFIG_HOME)) ?? join(home(), ".config", APP_DIR);
  const state = present(flags.state) ?? joinApp(xdg(env.XDG_STATE_HOME)) ?? join(home(), ".local", "state", APP_DIR);
  const logs = present(flags.logs) ?? join(state, "inscriptions");
  return { config, state, logs };
}

function joinApp(base: string | undefined): string | undefined {
  return base === undefined ? undefined : join(base, APP_DIR);
}

/** The runtime files of one bundle, all inside `dir` (relay.md §1). */
export interface BundlePaths {
  readonly bundle: string;
  /** `<state>/bundles/<bundle>`: private to the owner (0700). */
  readonly dir: string;
  /** `relay.sock`: the relay's Unix socket (0600). */
  readonly socket: string;
  /** `relay.lock`: held by the hosting relay for its whole life. */
  readonly lock: string;
  /** `relay.spawn.lock`: held only by the client that is spawning the relay. */
  readonly spawnLock: string;
  /** `relay.pid`: the PID of the `relay.lock` holder, empty after a clean exit. */
  readonly pid: string;
}

/**
 * Longest socket path we accept, in bytes. `sun_path` holds 108 bytes on
 * Linux and 104 on macOS, both including the terminating NUL; 103 fits both.
 * Past it, `bind`/`connect` fail with an obscure error or (on some systems)
 * silently truncate the path, so we refuse early and name the path.
 */
export const MAX_SOCKET_PATH_BYTES = 103;

/** The paths of `bundle` under `stateRoot`; throws on an invalid name or a socket path too long to bind. */
export function bundlePaths(stateRoot: string, bundle: string): BundlePaths {
  validateBundleName(bundle);
  const dir = join(stateRoot, "bundles", bundle);
  const socket = join(dir, "relay.sock");
  const bytes = Buffer.byteLength(socket);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new RelayError(
      "validation_socket_path_too_long",
      `relay socket path ${socket} is ${bytes} bytes, over the limit of ${MAX_SOCKET_PATH_BYTES}; use a shorter --state-directory`,
      { path: socket, bytes, max_bytes: MAX_SOCKET_PATH_BYTES },
    );
  }
  return {
    bundle,
    dir,
    socket,
    lock: join(dir, "relay.lock"),
    spawnLock: join(dir, "relay.spawn.lock"),
    pid: join(dir, "relay.pid"),
  };
}

const PRIVATE_DIR_MODE = 0o700;

export interface SecureDirOptions {
  /** The uid that must own the directory: the effective uid, passed in by the app. */
  readonly uid: number;
}

/**
 * Creates `dir` if needed and makes sure it is a real directory owned by
 * `uid` with mode 0700, tightening a looser mode every time (relay.md §1).
 * The checks and the chmod go through one descriptor opened with
 * `O_NOFOLLOW`, so a symlink is refused rather than followed and the
 * directory cannot be swapped between the check and the chmod.
 */
export function secureBundleDir(dir: string, options: SecureDirOptions): void {
  mkdirSync(dirname(dir), { recursive: true, mode: PRIVATE_DIR_MODE });
  try {
    mkdirSync(dir, { mode: PRIVATE_DIR_MODE });
  } catch (err) {
    // Something that is not a directory is in the way: the open below says what.
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP" || code === "ENOTDIR") {
      const what = lstatSync(dir).isSymbolicLink() ? "a symbolic link" : "not a directory";
      throw new RelayError("runtime_insecure_path", `runtime directory ${dir} is ${what}`, { path: dir });
    }
    throw err;
  }
  try {
    requireOwner(dir, fstatSync(fd), options.uid, "runtime directory");
    fchmodSync(fd, PRIVATE_DIR_MODE);
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks a runtime artifact (socket, lock, pid file) before it is used or
 * removed: absent is fine (returns undefined); a symlink or a file owned by
 * another uid is a `runtime_insecure_path` error. Uses `lstat`, so a link is
 * judged by itself and never by what it points to.
 */
export function checkOwner(path: string, uid: number): Stats | undefined {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  if (stats.isSymbolicLink()) {
    throw new RelayError("runtime_insecure_path", `runtime artifact ${path} is a symbolic link`, { path });
  }
  requireOwner(path, stats, uid, "runtime artifact");
  return stats;
}

function requireOwner(path: string, stats: Stats, uid: number, what: string): void {
  if (stats.uid !== uid) {
    throw new RelayError("runtime_insecure_path", `${what} ${path} is owned by uid ${stats.uid}, expected uid ${uid}`, {
      path,
      owner_uid: stats.uid,
      expected_uid: uid,
    });
  }
}
