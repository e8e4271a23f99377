import { realpathSync } from "node:fs";
import { homedir, tmpdir, userInfo } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { bundlePaths } from "@agentmux/relay";
import { z } from "zod";
import { ConfigError } from "./errors.js";
import { SRV_VERSION } from "./version.js";

export interface SrvConfig {
  dataDir: string;
  instance: string;
  /** Loopback ports; 0 = chosen by the OS. */
  webPort: number;
  wsPort: number;
  synchronous: "normal" | "full";
  /** The key HTTP and WebSocket clients present; undefined: srv mints one into `<data-dir>/auth.key` once it holds the lock. */
  authKey: string | undefined;
  pipePath: string;
  /** Where the instance's relay keeps its bundle dir (`bundles/<instance>/relay.sock`). */
  relayDir: string;
  /** The built dashboard to serve (`AGENTMUX_WEB_DIR`); undefined: `@agentmux/web`'s, beside srv. */
  webDir: string | undefined;
  /** Outgoing bytes queued for one client before it is told `lagged` and disconnected. */
  clientBufferBytes: number;
}

interface FlagSpec<S extends z.ZodType> {
  schema: S;
  /** The value's placeholder in the usage; none for a boolean flag. */
  arg?: string;
  help: string;
}
const flag = <S extends z.ZodType>(spec: FlagSpec<S>) => spec;
const Port = z.coerce.number().int().min(0).max(65535);

/** srv's flags, declared once: parsing, validation and the usage text are all made from this table. */
const FLAGS = {
  "data-dir": flag({
    schema: z.string().min(1).optional(),
    arg: "DIR",
    help: "where the databases and logs live (default: $AGENTMUX_DATA_HOME, else $XDG_DATA_HOME/agentmux)",
  }),
  instance: flag({
    schema: z
      .string()
      .regex(/^(?!\.)[A-Za-z0-9._-]{1,64}$/, "letters, digits, '.', '_' or '-' (1-64), not starting with '.'")
      .default("default"),
    arg: "NAME",
    help: "instance name reported in AGENTMUXSRV-ESTART (default: default)",
  }),
  "web-port": flag({
    schema: Port.default(0),
    arg: "N",
    help: "HTTP listener port on 127.0.0.1 (default 0: chosen by the OS)",
  }),
  "ws-port": flag({
    schema: Port.default(0),
    arg: "N",
    help: "second listener (WebSocket) port on 127.0.0.1 (default 0)",
  }),
  sync: flag({
    schema: z.enum(["normal", "full"]).default("normal"),
    arg: "MODE",
    help: "SQLite synchronous: normal (default) or full",
  }),
  "no-watch-parent": flag({
    schema: z.boolean().default(false),
    help: "keep running when stdin closes or the parent process dies",
  }),
  "client-buffer-bytes": flag({
    schema: z.coerce
      .number()
      .int()
      .min(4096)
      .max(1024 * 1024 * 1024)
      .default(8 * 1024 * 1024),
    arg: "N",
    help: "outgoing bytes queued for one slow client before it gets error{lagged} and is disconnected (default 8388608)",
  }),
};
type FlagName = keyof typeof FLAGS;
const flagEntries = Object.entries(FLAGS) as [FlagName, FlagSpec<z.ZodType>][];

const Flags = z.strictObject(
  Object.fromEntries(flagEntries.map(([name, spec]) => [name, spec.schema])) as {
    [K in FlagName]: (typeof FLAGS)[K]["schema"];
  },
);

const Env = z.object({
  AGENTMUX_DATA_HOME: z.string().min(1).optional(),
  AGENTMUX_AUTH_KEY: z.string().min(16, "must be at least 16 characters").max(256).optional(),
  AGENTMUX_SRV_PIPE_PATH: z.string().min(1).max(107, "longer than a Unix socket path may be").optional(),
  AGENTMUX_RELAY_DIR: z.string().min(1).optional(),
  AGENTMUX_WEB_DIR: z.string().min(1).optional(),
  XDG_DATA_HOME: z.string().min(1).optional(),
  XDG_RUNTIME_DIR: z.string().min(1).optional(),
});

const ENV_HELP = `environment:
  AGENTMUX_AUTH_KEY       key for HTTP and WebSocket clients (removed from the environment once read;
                          when absent, one is minted into <data-dir>/auth.key, mode 0600)
  AGENTMUX_SRV_PIPE_PATH  Unix socket path (default: $XDG_RUNTIME_DIR/agentmux/<hash>-srv.sock)
  AGENTMUX_RELAY_DIR      the agents' relay: <dir>/bundles/<instance>/relay.sock
                          (default: $XDG_RUNTIME_DIR/agentmux/<hash>-relay)
  AGENTMUX_WEB_DIR        the built dashboard to serve (default: @agentmux/web's dist, beside srv)
  AGENTMUX_DATA_HOME      default data dir`;

function usage(): string {
  const synopsis = flagEntries.map(([name, spec]) => `[--${name}${spec.arg ? ` ${spec.arg}` : ""}]`).join(" ");
  const lines = flagEntries.map(([name, spec]) => {
    const head = `  --${name}${spec.arg ? ` ${spec.arg}` : ""}`;
    return head.length < 21 ? `${head.padEnd(21)}${spec.help}` : `${head}\n${" ".repeat(21)}${spec.help}`;
  });
  return `usage: agentmux-srv ${synopsis}\n\n${lines.join("\n")}\n\n${ENV_HELP}`;
}

/** The usage text (printed by `--help` and after a bad flag). */
export const USAGE = usage();

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
  return `${runtimePrefix(dataDir, runtimeDir)}-srv.sock`;
}

/** `$XDG_RUNTIME_DIR/agentmux/<hash16>-relay` (or under `/tmp/agentmux-<uid>/`): short enough for the relay's socket path. */
export function defaultRelayDir(dataDir: string, runtimeDir: string | undefined): string {
  return `${runtimePrefix(dataDir, runtimeDir)}-relay`;
}

/** A short per-data-dir (and per-version) path prefix in the runtime dir. */
function runtimePrefix(dataDir: string, runtimeDir: string | undefined): string {
  let canonical = dataDir;
  try {
    canonical = realpathSync(dataDir);
  } catch {
    // not created yet: use it as given
  }
  const hash = fnv1a64(`${canonical.toLowerCase()}\0${SRV_VERSION}`);
  const dir = runtimeDir ? join(runtimeDir, "agentmux") : join(tmpdir(), `agentmux-${userInfo().uid}`);
  return join(dir, hash);
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
 * Reads argv and the environment (validated; ConfigError on anything bad) and
 * consumes AGENTMUX_AUTH_KEY, so that no child process inherits it. Writes
 * nothing: the data dir is touched only once srv holds its lock.
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): SrvConfig {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        flagEntries.map(([name, spec]) => [name, { type: spec.arg === undefined ? "boolean" : "string" }]),
      ) as Record<FlagName, { type: "string" | "boolean" }>,
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
  const relayDir = resolve(e.AGENTMUX_RELAY_DIR ?? defaultRelayDir(dataDir, e.XDG_RUNTIME_DIR));
  try {
    // The relay's socket path must fit a Unix socket address: refused here, not found out at start.
    bundlePaths(relayDir, f.instance);
  } catch (err) {
    throw new ConfigError(`bad relay location (AGENTMUX_RELAY_DIR, --instance): ${(err as Error).message}`);
  }
  return {
    dataDir,
    instance: f.instance,
    webPort: f["web-port"],
    wsPort: f["ws-port"],
    synchronous: f.sync,
    authKey: e.AGENTMUX_AUTH_KEY,
    pipePath: e.AGENTMUX_SRV_PIPE_PATH ?? defaultPipePath(dataDir, e.XDG_RUNTIME_DIR),
    relayDir,
    webDir: e.AGENTMUX_WEB_DIR === undefined ? undefined : resolve(e.AGENTMUX_WEB_DIR),
    clientBufferBytes: f["client-buffer-bytes"],
  };
}
