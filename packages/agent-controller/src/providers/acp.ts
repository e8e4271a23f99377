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
