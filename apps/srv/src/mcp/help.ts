/**
 * `help` (relay.md §5): answered by this server alone, so it works while
 * the relay is down. No query (or `agentmux`) gives the inventory; a tool's
 * name gives its argument schema (the same JSON Schema `tools/list`
 * advertises) and a call that would be accepted.
 */
import { RELAY_SCHEMA_VERSION } from "@agentmux/common-ipc";
import { z } from "zod";
import { HELP_QUERIES, type HelpQuery, TOOL_NAMES, TOOLS, type ToolDefinition, type ToolName } from "./tools.js";

/** The JSON Schema of a tool's arguments, as `tools/list` shows it (inputs: defaults are optional). */
export function inputJsonSchema(tool: ToolDefinition): { type: "object"; [key: string]: unknown } {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(tool.schema, { io: "input", target: "draft-7" });
  return { ...schema, type: "object" };
}

/** Which tool a query is about (`list.sessions` is `list`'s one command). */
const QUERY_TOOL: Readonly<Record<Exclude<HelpQuery, "agentmux">, ToolName>> = Object.freeze({
  list: "list",
  "list.sessions": "list",
  send: "send",
  look: "look",
});

export interface HelpIdentity {
  readonly bundleName: string;
  readonly sessionId: string;
}

export function helpAnswer(query: HelpQuery | undefined, identity: HelpIdentity): Record<string, unknown> {
  if (query === undefined || query === "agentmux") {
    return {
      schema_version: RELAY_SCHEMA_VERSION,
      kind: "help",
      topic: "agentmux",
      bundle_name: identity.bundleName,
      session_id: identity.sessionId,
      summary: `You are session ${identity.sessionId} of bundle ${identity.bundleName}. Messages you send are signed with that identity.`,
      tools: TOOL_NAMES.map((name) => ({ name, description: TOOLS[name].description })),
      queries: [...HELP_QUERIES],
    };
  }
  const tool = TOOLS[QUERY_TOOL[query]];
  return {
    schema_version: RELAY_SCHEMA_VERSION,
    kind: "help",
    topic: query,
    tool: tool.name,
    description: tool.description,
    args_schema: inputJsonSchema(tool),
    invoke: { tool: tool.name, arguments: tool.example },
  };
}
