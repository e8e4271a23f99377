/**
 * The srv stderr line protocol: how srv tells the process that started it
 * that it is migrating, that a migration failed, or that it is ready.
 * Every other stderr line is ordinary log text.
 */

export const ESTART = "AGENTMUXSRV-ESTART";
export const MIGRATING = "AGENTMUXSRV-MIGRATING";
export const MIGRATION_FAILED = "AGENTMUXSRV-MIGRATION-FAILED";
export const EVENT_PREFIX = "AGENTMUXSRV-EVENT:";

export interface EstartInfo {
  /** `host:port` of the WebSocket listener. */
  ws: string;
  /** `host:port` of the web (HTTP) listener. */
  web: string;
  version: string;
  buildtime: string;
  instance: string;
  pending_migrations: number;
  /**
   * agentmux extension: the Unix socket srv listens on (absent when it could not bind one),
   * so that no other program has to work out srv's configuration to find it. Written
   * percent-encoded (`%20` for a space), read back decoded.
   */
  pipe?: string;
  /** agentmux extension: the agents' relay socket (absent when srv hosts none); encoded like `pipe`. */
  relay?: string;
}

export type SrvStderrLine =
  | ({ kind: "estart" } & EstartInfo)
  | { kind: "migrating"; migrations: number }
  | { kind: "migration_failed"; error: string }
  | { kind: "event"; data: string }
  /** A line that starts with a protocol word but does not parse: `reason` says why. */
  | { kind: "invalid"; line: string; reason: string }
  | { kind: "log"; line: string };

const ESTART_KEYS = ["ws", "web", "version", "buildtime", "instance", "pending_migrations"] as const;
/** The optional ESTART fields that are paths (percent-encoded on the line). */
const PATH_KEYS = ["pipe", "relay"] as const;
const UNKNOWN_REASON = "unknown error";

function checkValue(key: string, value: string): string {
  if (value.length === 0 || /\s/.test(value)) {
    throw new RangeError(`${key} must be a non-empty value without whitespace, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkCount(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`count must be a whole number ≥ 0, got ${value}`);
  return value;
}

/** `AGENTMUXSRV-ESTART ws:<host:port> web:<host:port> version:<v> buildtime:<t> instance:<id> pending_migrations:<n> [pipe:<path>] [relay:<path>]` */
export function formatEstart(info: EstartInfo): string {
  const fields = ESTART_KEYS.map((key) => {
    const value = key === "pending_migrations" ? String(checkCount(info[key])) : checkValue(key, info[key]);
    return `${key}:${value}`;
  });
  for (const key of PATH_KEYS) {
    const path = info[key];
    if (path !== undefined) fields.push(`${key}:${encodePath(key, path)}`);
  }
  return `${ESTART} ${fields.join(" ")}`;
}

/** A path as one whitespace-free token: percent-encoded, with its slashes left readable. */
function encodePath(key: string, path: string): string {
  if (path.length === 0) throw new RangeError(`${key} must be a non-empty path`);
  return encodeURIComponent(path).replaceAll("%2F", "/");
}

/** `AGENTMUXSRV-MIGRATING migrations:<n>` */
export function formatMigrating(migrations: number): string {
  return `${MIGRATING} migrations:${checkCount(migrations)}`;
}

/** Folds any text onto one line: line breaks become ` | `, blank pieces are dropped. */
export function oneLine(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .join(" | ");
}

/** `AGENTMUXSRV-MIGRATION-FAILED error:<text>`, always one line with a non-empty reason. */
export function formatMigrationFailed(error: string): string {
  const reason = oneLine(error);
  return `${MIGRATION_FAILED} error:${reason.length > 0 ? reason : UNKNOWN_REASON}`;
}

/** `AGENTMUXSRV-EVENT:<data>` (data folded onto one line). */
export function formatStderrEvent(data: string): string {
  return `${EVENT_PREFIX}${oneLine(data)}`;
}

/** Splits `word rest` at the first run of spaces. */
function head(line: string): [string, string] {
  const m = /^(\S+)\s*(.*)$/.exec(line);
  return m ? [m[1] as string, m[2] as string] : [line, ""];
}

function parseCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

function parseEstart(line: string, rest: string): SrvStderrLine {
  const fields = new Map<string, string>();
  for (const token of rest.split(/\s+/)) {
    const colon = token.indexOf(":");
    if (colon > 0) fields.set(token.slice(0, colon), token.slice(colon + 1));
  }
  const missing = ["ws", "web", "version", "instance"].filter((k) => !fields.get(k));
  if (missing.length > 0) return { kind: "invalid", line, reason: `ESTART without ${missing.join(", ")}` };
  const pendingText = fields.get("pending_migrations");
  const pending = pendingText === undefined ? 0 : parseCount(pendingText);
  if (pending === undefined) return { kind: "invalid", line, reason: `bad pending_migrations ${pendingText}` };
  const estart: SrvStderrLine = {
    kind: "estart",
    ws: fields.get("ws") as string,
    web: fields.get("web") as string,
    version: fields.get("version") as string,
    buildtime: fields.get("buildtime") ?? "",
    instance: fields.get("instance") as string,
    pending_migrations: pending,
  };
  for (const key of PATH_KEYS) {
    const encoded = fields.get(key);
    if (encoded === undefined) continue;
    try {
      estart[key] = decodeURIComponent(encoded);
    } catch {
      return { kind: "invalid", line, reason: `bad ${key} ${encoded}` };
    }
  }
  return estart;
}

/**
 * Classifies one stderr line. The protocol word must be the whole first
 * token, so `AGENTMUXSRV-MIGRATING` is never read as `AGENTMUXSRV-MIGRATION-FAILED`
 * (or `AGENTMUXSRV-ESTARTED` as `AGENTMUXSRV-ESTART`).
 */
export function parseSrvStderrLine(raw: string): SrvStderrLine {
  const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
  if (line.startsWith(EVENT_PREFIX)) return { kind: "event", data: line.slice(EVENT_PREFIX.length) };
  const [word, rest] = head(line);
  switch (word) {
    case ESTART:
      return parseEstart(line, rest);
    case MIGRATING: {
      const n = parseCount(/^migrations:(\S+)$/.exec(rest.trim())?.[1]);
      return n === undefined
        ? { kind: "invalid", line, reason: "MIGRATING without migrations:<n>" }
        : { kind: "migrating", migrations: n };
    }
    case MIGRATION_FAILED: {
      const reason = rest.startsWith("error:") ? rest.slice("error:".length).trim() : rest.trim();
      return { kind: "migration_failed", error: reason.length > 0 ? reason : UNKNOWN_REASON };
    }
    default:
      return { kind: "log", line };
  }
}
