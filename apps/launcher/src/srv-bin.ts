import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LauncherError } from "./errors.js";

/**
 * Where agentmux-srv may be, in the order looked at: `$AGENTMUX_SRV_BIN` when set; srv installed
 * beside the launcher (the `@agentmux/srv` package it depends on); the workspace build next to
 * this checkout's launcher.
 */
export function srvCandidates(
  env: NodeJS.ProcessEnv,
  here = dirname(fileURLToPath(import.meta.url)),
  installed: () => string | undefined = () => installedSrv(here),
): string[] {
  const candidates: string[] = [];
  if (env.AGENTMUX_SRV_BIN) candidates.push(env.AGENTMUX_SRV_BIN);
  candidates.push(installed() ?? join(here, "..", "node_modules", "@agentmux", "srv", "dist", "bin.js"));
  candidates.push(join(here, "..", "..", "srv", "dist", "bin.js"));
  return [...new Set(candidates)];
}

/** srv's bin as Node resolves the `@agentmux/srv` package from `here`, if it does. */
function installedSrv(here: string): string | undefined {
  try {
    return join(dirname(createRequire(join(here, "noop.js")).resolve("@agentmux/srv/package.json")), "dist", "bin.js");
  } catch {
    return undefined;
  }
}

/** The first srv program that exists; a missing one is an error listing every place looked at. */
export function findSrv(
  env: NodeJS.ProcessEnv,
  ...where: [here?: string, installed?: () => string | undefined]
): string {
  const candidates = srvCandidates(env, ...where);
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new LauncherError(
      "srv_not_found",
      `agentmux-srv not found; looked at:\n${candidates.map((p) => `  ${p}`).join("\n")}\n` +
        "install @agentmux/srv beside the launcher, build the workspace, or set AGENTMUX_SRV_BIN",
    );
  }
  return found;
}
