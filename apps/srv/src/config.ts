import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { homedir, tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";

export const SRV_VERSION = "0.1.0";

export interface SrvConfig {
  dataDir: string;
  instance: string;
  /** Loopback ports; 0 = chosen by the OS. */
  webPort: number;
  wsPort: number;
  synchronous: "normal" | "full";
  authKey: string;
  /** Where the auth key was minted to, when it did not come from the environment. */
  authKeyFile: string | undefined;
  pipePath: string;
  /** Watch stdin for EOF (when it is a pipe) and the parent for death. */
  watchParent: boolean;
  /** Outgoing bytes queued for one client before it is told `lagged` and disconnected. */
  clientBufferBytes: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const Port = z.coerce.number().int().min(0).max(65535);
const Flags = z.strictObject({
  "data-dir": z.string().min(1).optional(),
  instance: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, "letters, digits, '.', '_' or '-' (1-64)")
    .default("default"),
  "web-port": Port.default(0),
  "ws-port": Port.default(0),
  sync: z.enum(["normal", "full"]).default("normal"),
  "no-watch-parent": z.boolean().default(false),
  "client-buffer-bytes": z.coerce
    .number()
    .int()
    .min(4096)
    .max(1024 * 1024 * 1024)
    .default(8 * 1024 * 1024),
});

const Env = z.object({
  AGENTMUX_DATA_HOME: z.string().min(1).optional(),
  AGENTMUX_AUTH_KEY: z.string().min(16, "must be at least 16 characters").max(256).optional(),
  AGENTMUX_SRV_PIPE_PATH: z.string().min(1).max(107, "longer than a Unix socket path may be").optional(),
  XDG_DATA_HOME: z.string().min(1).optional(),
  XDG_RUNTIME_DIR: z.string().min(1).optional(),
});

export const USAGE = `usage: agentmux-srv [--data-dir DIR] [--instance NAME] [--web-port N] [--ws-port N] [--sync normal|full]
                    [--no-watch-parent] [--client-buffer-bytes N]

  --data-dir DIR     where the databases and logs live (default: $AGENTMUX_DATA_HOME, else $XDG_DATA_HOME/agentmux)
  --instance NAME    instance name reported in AGENTMUXSRV-ESTART (default: default)
  --web-port N       HTTP listener port on 127.0.0.1 (default 0: chosen by the OS)
  --ws-port N        second listener (WebSocket) port on 127.0.0.1 (default 0)
  --sync MODE        SQLite synchronous: normal (default) or full
  --no-watch-parent  keep running when stdin closes or the parent process dies
  --client-buffer-bytes N
                     outgoing bytes queued for one slow client before it gets error{lagged} and is
                     disconnected (default 8388608)

environment:
  AGENTMUX_AUTH_KEY       key for HTTP and WebSocket clients (removed from the environment once read;
                          when absent, one is minted into <data-dir>/auth.key, mode 0600)
  AGENTMUX_SRV_PIPE_PATH  Unix socket path (default: $XDG_RUNTIME_DIR/agentmux/<hash>-srv.sock)
  AGENTMUX_DATA_HOME      default data dir`;

function issues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join(".") || "argument"}: ${i.message}`).join("; ");
}

/** FNV-1a 64-bit, as 16 hex digits. */
export function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, "0");
}

/** `$XDG_RUNTIME_DIR/agentmux/<hash16>-srv.sock`, else `/tmp/agentmux-<uid>/<hash16>-srv.sock`. */
export function defaultPipePath(dataDir: string, runtimeDir: string | undefined): string {
  let canonical = dataDir;
  try {
    canonical = realpathSync(dataDir);
  } catch {
    // not created yet: use it as given
  }
  const hash = fnv1a64(`${canonical.toLowerCase()}\0${SRV_VERSION}`);
  const dir = runtimeDir ? join(runtimeDir, "agentmux") : join(tmpdir(), `agentmux-${userInfo().uid}`);
  return join(dir, `${hash}-srv.sock`);
}

/** `--data-dir`, else `$AGENTMUX_DATA_HOME`, else `$XDG_DATA_HOME/agentmux` (`~/.local/share/agentmux`). */
export function resolveDataDir(
  flag: string | undefined,
  env: { AGENTMUX_DATA_HOME?: string | undefined; XDG_DATA_HOME?: string | undefined },
): string {
  return resolve(
    flag ?? env.AGENTMUX_DATA_HOME ?? join(env.XDG_DATA_HOME ?? join(homedir(), ".local", "share"), "agentmux"),
  );
}

/**
 * Reads argv and the environment (validated), consuming AGENTMUX_AUTH_KEY so
 * that no child process inherits it. Creates the data dir and, when no key
 * was given, mints one into `<data-dir>/auth.key` (0600).
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): SrvConfig {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        "data-dir": { type: "string" },
        instance: { type: "string" },
        "web-port": { type: "string" },
        "ws-port": { type: "string" },
        sync: { type: "string" },
        "no-watch-parent": { type: "boolean" },
        "client-buffer-bytes": { type: "string" },
      },
    });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const flags = Flags.safeParse(parsed.values);
  if (!flags.success) throw new ConfigError(`bad arguments: ${issues(flags.error)}`);
  const envParsed = Env.safeParse(env);
  if (!envParsed.success) throw new ConfigError(`bad environment: ${issues(envParsed.error)}`);
  const e = envParsed.data;
  delete env.AGENTMUX_AUTH_KEY;

  const f = flags.data;
  const dataDir = resolveDataDir(f["data-dir"], e);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  let authKey = e.AGENTMUX_AUTH_KEY;
  let authKeyFile: string | undefined;
  if (authKey === undefined) {
    authKeyFile = join(dataDir, "auth.key");
    authKey = randomBytes(24).toString("base64url");
    writeFileSync(authKeyFile, `${authKey}\n`, { mode: 0o600 });
    chmodSync(authKeyFile, 0o600);
  }

  return {
    dataDir,
    instance: f.instance,
    webPort: f["web-port"],
    wsPort: f["ws-port"],
    synchronous: f.sync,
    authKey,
    authKeyFile,
    pipePath: e.AGENTMUX_SRV_PIPE_PATH ?? defaultPipePath(dataDir, e.XDG_RUNTIME_DIR),
    watchParent: !f["no-watch-parent"],
    clientBufferBytes: f["client-buffer-bytes"],
  };
}
