import * as z from "zod/mini";
import { EXIT, LauncherError } from "./errors.js";

// The environment `agentmux start` reads. A module of its own, loaded by `start` only: the other
// verbs build no schema they do not use.

const READY_MS = { error: "must be a whole number of milliseconds from 100 to 3600000" };
const StartEnv = z.object({
  AGENTMUX_READY_TIMEOUT_MS: z.optional(
    z.coerce.number(READY_MS).check(z.int(READY_MS), z.minimum(100, READY_MS), z.maximum(3_600_000, READY_MS)),
  ),
});

export interface StartSettings {
  /** How long srv gets to print ESTART (undefined: the supervisor's default). */
  readyMs?: number;
}

/** `start`'s settings from the environment; a bad value is a usage error naming the variable and the rule. */
export function startSettings(env: NodeJS.ProcessEnv): StartSettings {
  const parsed = StartEnv.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0]);
    throw new LauncherError("usage", `bad environment: ${name}=${env[name]}: ${issue?.message}`, EXIT.usage);
  }
  const readyMs = parsed.data.AGENTMUX_READY_TIMEOUT_MS;
  return readyMs ? { readyMs } : {};
}
