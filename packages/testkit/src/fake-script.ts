// The script language of the fake model servers: the newest user message says what the "model"
// answers (see fake-anthropic.ts for the verbs). Each fake renders a script in its own API's
// wire format.

export type Script =
  | { kind: "text"; chunks: string[]; delayMs: number }
  | { kind: "tool"; name: string; input: unknown }
  | { kind: "error"; status: number }
  | { kind: "hang" };

/** How a provider names its tools: the shell tool, and the prefix of agentmux's MCP tools. */
export interface ToolNames {
  shell: string;
  mcpPrefix: string;
}

/** The script a user message asks for (an agentmux envelope is scripted by its body). */
export function scriptFor(message: string, tools: ToolNames): Script {
  const text = envelopeBody(message).trim();
  const [verb, ...rest] = text.split(" ");
  const arg = rest.join(" ");
  switch (verb) {
    case "reply":
      return { kind: "text", chunks: [arg], delayMs: 0 };
    case "tool":
      return { kind: "tool", name: tools.shell, input: { command: arg, description: "run it" } };
    case "mcp":
    case "call": {
      const [tool = "", ...json] = arg.split(" ");
      const name = verb === "mcp" ? `${tools.mcpPrefix}${tool}` : tool;
      return { kind: "tool", name, input: JSON.parse(json.join(" ") || "{}") };
    }
    case "error":
      return { kind: "error", status: Number(arg) || 500 };
    case "hang":
      return { kind: "hang" };
    case "slow":
      return { kind: "text", chunks: Array.from({ length: Number(arg) || 50 }, (_, i) => `chunk${i} `), delayMs: 200 };
    default:
      return { kind: "text", chunks: ["ok"], delayMs: 0 };
  }
}

/** The body of an agentmux envelope (the text/plain part), or the text itself when it is not one. */
function envelopeBody(text: string): string {
  const start = /^--(agentmux-[0-9a-f]+)$/m.exec(text);
  if (!start) return text;
  const boundary = start[1] as string;
  const part = text.indexOf("Content-Type: text/plain", start.index);
  const bodyStart = part === -1 ? -1 : text.indexOf("\n\n", part);
  const end = text.indexOf(`\n--${boundary}--`, bodyStart);
  return bodyStart === -1 || end === -1 ? text : text.slice(bodyStart + 2, end);
}
