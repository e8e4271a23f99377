/**
 * The MCP server an agent talks to (relay.md §5), bound to one identity:
 * every request it makes to the relay is made as that session, over a
 * stream whose hello named it, so an agent can neither forge a sender nor
 * reach another bundle.
 *
 * Built on the SDK's low-level `Server` rather than `McpServer`: `McpServer`
 * turns every error a tool throws into a successful result flagged
 * `isError`, and §5 wants a JSON-RPC error whose `data` carries the relay's
 * code (so a client can tell a refused send from a delivered one without
 * parsing text). The two handlers here are all `McpServer` would add.
 */
import { RELAY_SCHEMA_VERSION } from "@agentmux/common-ipc";
import { type RelayClient, RelayError } from "@agentmux/relay";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type ListToolsResult,
} from "@modelcontextprotocol/sdk/types.js";
import { errorDataOf, toMcpError } from "./errors.js";
import { helpAnswer, inputJsonSchema } from "./help.js";
import { type McpLog, RelayLink, type RelayLinkOptions } from "./relay-link.js";
import {
  type ListInput,
  type LookInput,
  parseToolCall,
  type SendInput,
  TOOL_NAMES,
  TOOLS,
  type ToolCall,
} from "./tools.js";

/** The name agents see in `initialize` (and the key srv gives the server in an agent's MCP config). */
export const MCP_SERVER_NAME = "agentmux";

export interface AgentMcpServerOptions extends Omit<RelayLinkOptions, "log"> {
  /** Reported in `initialize`. */
  readonly version: string;
  readonly log?: McpLog;
}

export class AgentMcpServer {
  readonly bundleName: string;
  readonly sessionId: string;
  readonly #server: Server;
  readonly #link: RelayLink;
  readonly #log: McpLog;

  constructor(options: AgentMcpServerOptions) {
    this.bundleName = options.bundleName;
    this.sessionId = options.sessionId;
    this.#log = options.log ?? (() => {});
    this.#link = new RelayLink({ ...options, log: this.#log });
    this.#server = new Server(
      { name: MCP_SERVER_NAME, version: options.version },
      {
        capabilities: { tools: {} },
        instructions: `agentmux messaging for session ${this.sessionId} of bundle ${this.bundleName}: list, look, send; help explains each.`,
      },
    );
    this.#server.setRequestHandler(ListToolsRequestSchema, () => listTools());
    this.#server.setRequestHandler(CallToolRequestSchema, (request) =>
      this.call(request.params.name, request.params.arguments),
    );
  }

  /** Serves MCP on `transport` (stdio in production). */
  connect(transport: Transport): Promise<void> {
    return this.#server.connect(transport);
  }

  /**
   * Runs one tool call: one text item with the JSON answer, or a thrown
   * `McpError` (-32602 for the caller's mistakes and denials, -32603 else).
   */
  async call(name: string, args: unknown): Promise<CallToolResult> {
    const started = performance.now();
    try {
      const answer = await this.#run(parseToolCall(name, args, this.sessionId));
      this.#log("mcp.tool.ok", { tool: name, ms: Math.round(performance.now() - started) });
      return { content: [{ type: "text", text: JSON.stringify(answer) }] };
    } catch (err) {
      const data = errorDataOf(err);
      this.#log("mcp.tool.failed", { tool: name, code: data.code, ms: Math.round(performance.now() - started) });
      throw toMcpError(data);
    }
  }

  /** Stops serving and closes the relay stream. */
  async close(): Promise<void> {
    await this.#server.close();
    await this.#link.close();
  }

  #run(call: ToolCall): Promise<unknown> {
    switch (call.tool) {
      case "help":
        return Promise.resolve(helpAnswer(call.input.query, this));
      case "list":
        return this.#list(call.input);
      case "look":
        return this.#look(call.input);
      case "send":
        return this.#send(call.input);
    }
  }

  async #list(input: ListInput): Promise<unknown> {
    const bundle = input.args?.bundle_name;
    if (bundle !== undefined && bundle !== this.bundleName) {
      throw new RelayError(
        "validation_cross_bundle_unsupported",
        `this server lists its own bundle (${this.bundleName}) only`,
        { bundle_name: bundle, home_bundle: this.bundleName },
      );
    }
    const response = await (await this.#client()).list();
    // `all`: every bundle this server reaches, which is its own (it holds one relay stream).
    return input.args?.all === true ? { schema_version: RELAY_SCHEMA_VERSION, bundles: [response] } : response;
  }

  async #look(input: LookInput): Promise<unknown> {
    return (await this.#client()).look(input.target_session, input.lines);
  }

  async #send(input: SendInput): Promise<unknown> {
    return (await this.#client()).send({
      message: input.message,
      targets: input.targets,
      broadcast: input.broadcast,
      deliveryMode: input.delivery_mode,
      ...(input.quiescence_timeout_ms === undefined ? {} : { quiescenceTimeoutMs: input.quiescence_timeout_ms }),
      ...(input.acp_turn_timeout_ms === undefined ? {} : { acpTurnTimeoutMs: input.acp_turn_timeout_ms }),
      ...(input.request_id === undefined ? {} : { requestId: input.request_id }),
    });
  }

  #client(): Promise<RelayClient> {
    return this.#link.client();
  }
}

function listTools(): ListToolsResult {
  return {
    tools: TOOL_NAMES.map((name) => {
      const tool = TOOLS[name];
      return {
        name,
        description: tool.description,
        inputSchema: inputJsonSchema(tool),
        annotations: { readOnlyHint: tool.readOnly, openWorldHint: false },
      };
    }),
  };
}
