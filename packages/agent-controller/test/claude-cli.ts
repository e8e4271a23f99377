// Where the pinned Claude Code CLI's native binary is, and the environment that runs it offline
// against the fake Messages API.
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** The native `claude` executable of the pinned `@anthropic-ai/claude-code` dev dependency. */
export function claudeBinary(): string {
  const require = createRequire(import.meta.url);
  // The wrapper package's own bin is a placeholder until its install script runs (we do not run
  // install scripts); the platform package next to it holds the real binary.
  const wrapper = dirname(require.resolve("@anthropic-ai/claude-code/package.json"));
  const fromWrapper = createRequire(join(wrapper, "package.json"));
  const platform = `@anthropic-ai/claude-code-${process.platform}-${process.arch}`;
  return join(dirname(fromWrapper.resolve(`${platform}/package.json`)), "claude");
}

/** A clean environment for one test: its own HOME, no telemetry, the fake model server. */
export function claudeEnv(baseUrl: string): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), "agentmux-claude-home-"));
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: "sk-ant-test-not-a-real-key",
    DISABLE_TELEMETRY: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
  };
}
