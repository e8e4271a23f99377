// The real Codex CLI (pinned in this package's dependencies), run offline against the fake
// Responses API.
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { tempDir } from "./cleanup.js";

/** The CLI's launcher script (a Node program that replaces itself with the native binary). */
export function codexBinary(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("@openai/codex/package.json")), "bin", "codex.js");
}

/**
 * A clean environment for the CLI: PATH, a HOME and a CODEX_HOME of its own (`tempDir`s; codex
 * keeps its threads under CODEX_HOME, so a resume must reuse the same environment) whose
 * config.toml names `baseUrl` as the model provider, with no retries, analytics or plugins
 * (nothing else is contacted), and the provider's key.
 */
export function codexEnv(baseUrl: string): Record<string, string> {
  const home = tempDir("agentmux-codex-home-");
  const codexHome = join(home, ".codex");
  mkdirSync(codexHome, { recursive: true });
  writeFileSync(
    join(codexHome, "config.toml"),
    `model = "gpt-5.5"
model_provider = "fake"

[model_providers.fake]
name = "Fake"
base_url = "${baseUrl}"
env_key = "FAKE_OPENAI_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[features]
plugins = false
`,
  );
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    CODEX_HOME: codexHome,
    FAKE_OPENAI_KEY: "test-not-a-real-key",
  };
}
