import { readFileSync } from "node:fs";
import { LauncherError } from "./errors.js";
import type { RunFile } from "./run-file.js";

/**
 * A one-time login link to srv's dashboard: srv mints a token for whoever holds the auth key,
 * and the browser trades it for a session cookie, so the key never reaches the browser.
 */
export async function dashboardLink(run: RunFile, key = readFileSync(run.key_file, "utf8").trim()): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`http://${run.web}/api/v1/login-token`, {
      method: "POST",
      headers: { "x-authkey": key },
      signal: AbortSignal.timeout(5000),
    });
  } catch (e) {
    throw new LauncherError("srv_error", `could not reach srv at ${run.web}: ${(e as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as { path?: unknown; error?: unknown };
  if (!res.ok || typeof body.path !== "string") {
    throw new LauncherError("srv_error", `srv refused a dashboard link: ${String(body.error ?? res.status)}`);
  }
  return `http://${run.web}${body.path}`;
}
