import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Provider } from "@agentmux/agent-controller";
import { AgentBlockMeta } from "@agentmux/common-ipc";
import type { Logger } from "pino";
import { AgentMetaError } from "../errors.js";

type Controller = typeof import("@agentmux/agent-controller");

/** How to start one agent, worked out from its block's meta. */
export interface Launch {
  provider: Provider;
  cwd: string;
  command?: string;
  env: Readonly<Record<string, string | undefined>>;
}

export interface LaunchContext {
  /** The environment agents start from (srv's, without its secrets). */
  env: Readonly<Record<string, string | undefined>>;
  /** The home directory `~` stands for in `agent:cwd`. */
  home: string;
  logger: Logger;
  /**
   * More arguments for a claude agent, by its meta (srv's relay: the MCP server bound to the
   * agent's name); none when absent or empty.
   */
  claudeArgs?: (meta: AgentBlockMeta) => readonly string[];
}

/** Validates an agent block's meta (AgentMetaError, answered as `invalid_command`). */
export function parseAgentMeta(blockId: string, meta: unknown): AgentBlockMeta {
  const parsed = AgentBlockMeta.safeParse(meta);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    throw new AgentMetaError(`block ${blockId}: ${where}${issue?.message ?? "bad meta"}`);
  }
  return parsed.data;
}

/** `~` and `~/…` are the home directory. */
export function expandHome(path: string, home: string): string {
  if (path === "~") return home;
  return path.startsWith("~/") ? join(home, path.slice(2)) : path;
}

/**
 * Everything needed to start the block's agent. A working directory that does
 * not exist yet is created (and said so in the log), as people point a new
 * agent at a folder for a new project.
 */
export function launchFor(controller: Controller, blockId: string, meta: AgentBlockMeta, ctx: LaunchContext): Launch {
  const cwd = expandHome(meta["agent:cwd"], ctx.home);
  if (!existsSync(cwd)) {
    try {
      mkdirSync(cwd, { recursive: true });
    } catch (err) {
      throw new AgentMetaError(
        `block ${blockId}: agent:cwd ${cwd} does not exist and could not be created: ${(err as Error).message}`,
      );
    }
    ctx.logger.info({ block: blockId, cwd }, "created the agent's working directory");
  }
  const command = meta["agent:command"];
  return {
    provider: providerFor(controller, meta, ctx),
    cwd,
    ...(command === undefined ? {} : { command: expandHome(command, ctx.home) }),
    env: { ...ctx.env, ...meta["agent:env"] },
  };
}

function providerFor({ acp, claude, codex, gemini }: Controller, meta: AgentBlockMeta, ctx: LaunchContext): Provider {
  const args = meta["agent:args"] ?? [];
  switch (meta["agent:provider"]) {
    case "claude":
      return claude({
        permissions: meta["agent:permissions"] ?? "ask",
        extraArgs: [...args, ...(ctx.claudeArgs?.(meta) ?? [])],
      });
    case "codex":
      return codex({ extraArgs: args });
    case "gemini":
      return gemini({ extraArgs: args });
    case "acp": {
      const command = meta["agent:command"];
      if (command === undefined) throw new AgentMetaError("an acp agent needs agent:command");
      return acp({ command, args });
    }
  }
}
