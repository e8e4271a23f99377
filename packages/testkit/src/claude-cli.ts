// The real Claude Code CLI, run offline: where the pinned CLI's native binary is, and an
// environment that points it at the fake Messages API (./fake-anthropic.ts).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { tempDir } from "./cleanup.js";

/**
 * The native `claude` executable of the pinned `@anthropic-ai/claude-code` (a dependency of the
 * testkit). Its install script never runs here, so the wrapper package's own bin is only a
 * placeholder; the platform package next to it holds the real binary.
 */
export function claudeBinary(): string {
  const require = createRequire(import.meta.url);
  const wrapper = dirname(require.resolve("@anthropic-ai/claude-code/package.json"));
  const fromWrapper = createRequire(join(wrapper, "package.json"));
  const platform = `@anthropic-ai/claude-code-${process.platform}-${process.arch}`;
  return join(dirname(fromWrapper.resolve(`${platform}/package.json`)), "claude");
}

/**
 * A clean environment for the CLI: PATH, a HOME of its own (a `tempDir`, so it goes after the
 * test; the CLI keeps its conversations there, so a restart that resumes one must reuse the same
 * environment), a dummy key, no telemetry or updates, and `baseUrl` as the model server.
 */
export function claudeEnv(baseUrl: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: tempDir("agentmux-claude-home-"),
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: "sk-ant-test-not-a-real-key",
    DISABLE_TELEMETRY: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
  };
}

/** Zed's Claude Code ACP adapter (pinned): its entry script, a Node program. */
export function claudeAcpBinary(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("@zed-industries/claude-agent-acp/package.json")), "dist", "index.js");
}

/**
 * `claudeEnv` for the ACP adapter, which runs its SDK's Claude Code with the same Node: its
 * config under the home, and IS_SANDBOX=1, without which Claude Code refuses to start as root
 * (the adapter always passes it --allow-dangerously-skip-permissions).
 */
export function claudeAcpEnv(baseUrl: string): Record<string, string> {
  const env = claudeEnv(baseUrl);
  return { ...env, CLAUDE_CONFIG_DIR: join(env.HOME as string, ".claude"), IS_SANDBOX: "1" };
}
