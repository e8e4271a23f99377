import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import type http from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { distDir } from "@agentmux/web";
import { z } from "zod";

/** The session cookie the dashboard is logged in with (HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = "agentmux_session";

export const DASHBOARD_DEFAULTS = Object.freeze({
  /** A login link works once, within this time. */
  tokenTtlMs: 10 * 60_000,
  /** A session ends this long after its login. */
  sessionTtlMs: 7 * 24 * 3_600_000,
  /** Most login links outstanding (older ones are dropped first). */
  maxTokens: 64,
});

function fresh(): string {
  return randomBytes(32).toString("base64url");
}

/** Secrets are kept (and written) only as their SHA-256: the sessions file is no credential. */
function hashOf(secret: string | undefined | null): string | undefined {
  return typeof secret === "string" && secret.length > 0
    ? createHash("sha256").update(secret).digest("hex")
    : undefined;
}

const SessionsFile = z.object({ sessions: z.array(z.tuple([z.string().regex(/^[0-9a-f]{64}$/), z.number()])) });

export interface DashboardAuthOptions {
  /** Where sessions are kept across restarts (0600), so an open page reconnects after srv restarts. */
  file?: string;
  now?: () => number;
  /** Told when the sessions file could not be read or written (it is then started afresh). */
  warn?: (message: string, err: unknown) => void;
}

/**
 * Who may open the dashboard. The launcher (which holds the auth key) asks for a login link;
 * the link's one-time token is exchanged for a session cookie, so the key itself never reaches
 * the browser: not the page, not its scripts or storage, not its history. Sessions outlive srv
 * (kept in a file), so an open page reconnects after a restart, even after `kill -9`.
 */
export class DashboardAuth {
  /** hash(token) → expiry (ms) */
  readonly #tokens = new Map<string, number>();
  /** hash(session id) → expiry (ms) */
  readonly #sessions = new Map<string, number>();
  readonly #now: () => number;

  constructor(private readonly options: DashboardAuthOptions = {}) {
    this.#now = options.now ?? Date.now;
    if (options.file !== undefined && existsSync(options.file)) {
      try {
        const parsed = SessionsFile.parse(JSON.parse(readFileSync(options.file, "utf8")));
        for (const [hash, expiry] of parsed.sessions) this.#sessions.set(hash, expiry);
      } catch (err) {
        options.warn?.("dashboard sessions file unreadable; starting without sessions", err);
      }
    }
  }

  /** A one-time login token. */
  mint(): string {
    this.#sweep();
    while (this.#tokens.size >= DASHBOARD_DEFAULTS.maxTokens) {
      const oldest = this.#tokens.keys().next().value;
      if (oldest === undefined) break;
      this.#tokens.delete(oldest);
    }
    const token = fresh();
    this.#tokens.set(hashOf(token) as string, this.#now() + DASHBOARD_DEFAULTS.tokenTtlMs);
    return token;
  }

  /** Spends a token: a new session id, or undefined when the token is unknown, used or expired. */
  redeem(token: string | undefined | null): string | undefined {
    this.#sweep();
    const hash = hashOf(token);
    if (hash === undefined || !this.#tokens.has(hash)) return undefined;
    this.#tokens.delete(hash);
    const session = fresh();
    this.#sessions.set(hashOf(session) as string, this.#now() + DASHBOARD_DEFAULTS.sessionTtlMs);
    this.#save();
    return session;
  }

  /** True for a live session. */
  check(session: string | undefined): boolean {
    const hash = hashOf(session);
    const expiry = hash === undefined ? undefined : this.#sessions.get(hash);
    return expiry !== undefined && expiry > this.#now();
  }

  #sweep(): void {
    const t = this.#now();
    for (const map of [this.#tokens, this.#sessions]) for (const [k, exp] of map) if (exp <= t) map.delete(k);
  }

  #save(): void {
    const file = this.options.file;
    if (file === undefined) return;
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ sessions: [...this.#sessions] }), { mode: 0o600 });
      renameSync(tmp, file);
    } catch (err) {
      this.options.warn?.("could not save the dashboard sessions (they end with this run)", err);
    }
  }
}

/** The session cookie a request carries, if any. */
export function sessionOf(req: http.IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Where the built dashboard is: `dir`, or `@agentmux/web`'s `dist/` beside srv. Undefined when it is not built. */
export function dashboardDir(dir: string = distDir): string | undefined {
  return existsSync(join(dir, "index.html")) ? resolve(dir) : undefined;
}

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json",
};

/**
 * Every dashboard response: scripts and styles only from srv itself (no inline code, so an
 * injected string can never run), no framing, no referrer.
 */
function secure(res: http.ServerResponse, host: string | undefined): void {
  const ws = host === undefined ? "" : ` ws://${host}`;
  res.setHeader(
    "content-security-policy",
    `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'${ws}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'`,
  );
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("referrer-policy", "no-referrer");
  res.setHeader("x-frame-options", "DENY");
}

function page(res: http.ServerResponse, status: number, title: string, body: string, host: string | undefined): void {
  secure(res, host);
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(html);
}

const HOW_TO_GET_IN =
  "<p>Open the dashboard with the link <code>agentmux start</code> prints, or get a new one with <code>agentmux dashboard</code>. Each link works once.</p>";

/** A request for the dashboard (`/login`, `/`, `/index.html`, `/assets/…`): answered here. False for any other path. */
export function serveDashboard(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  auth: DashboardAuth,
  dir: string | undefined,
): boolean {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const path = url.pathname;
  const host = req.headers.host;
  if (path !== "/login" && path !== "/" && path !== "/index.html" && !path.startsWith("/assets/")) return false;
  if (req.method !== "GET" && req.method !== "HEAD") {
    page(res, 405, "Method not allowed", "", host);
    return true;
  }
  if (path === "/login") {
    const session = auth.redeem(url.searchParams.get("token"));
    if (session === undefined) {
      page(
        res,
        401,
        "This login link is not valid",
        `<p>It was used already or has expired.</p>${HOW_TO_GET_IN}`,
        host,
      );
      return true;
    }
    secure(res, host);
    // A clean URL: the token leaves the address bar (and the history) at once.
    res.writeHead(303, {
      location: "/",
      "set-cookie": `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`,
      "cache-control": "no-store",
    });
    res.end();
    return true;
  }
  if (!auth.check(sessionOf(req))) {
    page(res, 401, "agentmux dashboard", HOW_TO_GET_IN, host);
    return true;
  }
  if (dir === undefined) {
    page(res, 503, "The dashboard is not built", "<p>Build it with <code>./agentmuxw setup</code>.</p>", host);
    return true;
  }
  const file = resolve(dir, path === "/" ? "index.html" : `.${path}`);
  const inside = file.startsWith(dir + sep);
  if (!inside || !existsSync(file) || !statSync(file).isFile()) {
    page(res, 404, "Not found", "", host);
    return true;
  }
  secure(res, host);
  const immutable = path.startsWith("/assets/");
  res.writeHead(200, {
    "content-type": TYPES[extname(file)] ?? "application/octet-stream",
    "cache-control": immutable ? "private, max-age=31536000, immutable" : "no-store",
  });
  res.end(req.method === "HEAD" ? undefined : readFileSync(file));
  return true;
}
