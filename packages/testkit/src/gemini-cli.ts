// The real Gemini CLI (pinned in this package's dependencies), run offline against the fake
// Gemini API.
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { tempDir } from "./cleanup.js";

/** The CLI's entry script (a Node program: run it with `process.execPath`, or directly). */
export function geminiBinary(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("@google/gemini-cli/package.json")), "bundle", "gemini.js");
}

/**
 * A clean environment for the CLI: PATH, a home of its own (GEMINI_CLI_HOME, a `tempDir`; it keeps
 * its sessions there, so a restart that loads one must reuse the same environment) whose settings
 * pick API-key auth and turn usage statistics off (plus `more` top-level settings), a dummy key,
 * a trusted workspace, and `baseUrl` as the model server.
 */
export function geminiEnv(baseUrl: string, more: Record<string, unknown> = {}): Record<string, string> {
  const home = tempDir("agentmux-gemini-home-");
  mkdirSync(join(home, ".gemini"), { recursive: true });
  const settings = {
    security: { auth: { selectedType: "gemini-api-key" } },
    privacy: { usageStatisticsEnabled: false },
    ...more,
  };
  writeFileSync(join(home, ".gemini", "settings.json"), JSON.stringify(settings));
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    GEMINI_CLI_HOME: home,
    GEMINI_API_KEY: "test-not-a-real-key",
    GOOGLE_GEMINI_BASE_URL: baseUrl,
    GEMINI_CLI_TRUST_WORKSPACE: "true",
  };
}
