import type { AcpProvider } from "./types.js";

export interface AcpOptions {
  /** The agent's executable (a name on PATH or a path). */
  command: string;
  args?: readonly string[];
  /** A name for logs and meta; default `acp`. */
  name?: string;
  env?: Readonly<Record<string, string | null>>;
}

/** Any agent that speaks the Agent Client Protocol v1 on stdio (`gemini --acp`, `opencode acp`, …). */
export function acp(options: AcpOptions): AcpProvider {
  return {
    name: options.name ?? "acp",
    protocol: "acp",
    command: options.command,
    args: () => [...(options.args ?? [])],
    env: options.env ?? {},
  };
}

/**
 * Gemini CLI in ACP mode (`gemini --acp`): one process holds the conversation, streams its
 * answer, asks before it runs a tool (`session/request_permission`), cancels a prompt
 * (`session/cancel`) and loads a conversation again after a restart (`session/load`). Chosen
 * over headless `--output-format stream-json`, which runs one process per turn and cannot ask
 * for permission (it needs `--yolo` to run tools at all).
 */
export function gemini(options: { extraArgs?: readonly string[] } = {}): AcpProvider {
  return acp({ name: "gemini", command: "gemini", args: ["--acp", ...(options.extraArgs ?? [])] });
}
