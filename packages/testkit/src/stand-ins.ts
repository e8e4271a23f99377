// Stand-in agent CLIs: small Node scripts that behave like an agent CLI (or like one with a bug)
// without a model, an account or a network. Each is an executable .mjs file run as a child
// process; its header comment says what it does and which argv it takes.
import { fileURLToPath } from "node:url";

/**
 * The stand-ins, by file name (without `.mjs`):
 * - `misbehaving-cli`: claude stream-json; its first argument picks a misbehaviour — `garbage`,
 *   `ignore-term` (ignores SIGTERM, with a grandchild that does too), `close-stdin`, `bad-key`,
 *   `stderr-flood`, `stderr-huge`, `slow-reader` (reads stdin only after SIGUSR1); anything else
 *   (`echo`) answers every turn.
 * - `acp-agent`: an ACP v1 agent on the official SDK: echoes, asks permission for "perm", streams
 *   "slow" until cancelled, resumes with `session/load`.
 * - `owner`: starts an orphan-to-be in its own process group, prints `{"pid"}`, waits for SIGKILL.
 * - `stubborn-cli`: claude stream-json; starts a turn, a child of its own (pid in
 *   ./grandchild.pid), ignores SIGTERM (each noted in ./signals.log) and stdin EOF, never ends
 *   the turn.
 * - `echo-cli`: claude stream-json; answers each turn with its cwd and two environment variables.
 * - `failing-cli`: dies at once like a CLI with a bad key (stderr, exit 1).
 * - `deaf-cli`: starts (init line), then never reads its stdin.
 */
export const STAND_INS = [
  "misbehaving-cli",
  "acp-agent",
  "owner",
  "stubborn-cli",
  "echo-cli",
  "failing-cli",
  "deaf-cli",
] as const;

export type StandIn = (typeof STAND_INS)[number];

/**
 * The absolute path of a stand-in. Run it as `node <path> …`, or directly (it is executable, with
 * a `#!/usr/bin/env node` line) where the agent command must be a single file.
 */
export function standIn(name: StandIn): string {
  // src/ and dist/ are both one level below the package root, where stand-ins/ is.
  return fileURLToPath(new URL(`../stand-ins/${name}.mjs`, import.meta.url));
}
