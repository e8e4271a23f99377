// The script language of the fake model servers: the newest user message says what the "model"
// answers (see fake-anthropic.ts for the verbs). Each fake renders a script in its own API's
// wire format; what they share of being a server is here too.
import { once } from "node:events";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

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

/** A fake's loopback server: handled requests, timers of slow streams, and a `close` that cuts both. */
export class FakeServer {
  readonly #timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port; a request `handle` fails on is answered by a reset. */
  static async start(
    create: (listener: (req: IncomingMessage, res: ServerResponse) => void) => Server,
    handle: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>,
  ): Promise<FakeServer> {
    const server = create((req, res) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        await handle(req, res, Buffer.concat(chunks));
      })().catch(() => res.destroy());
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return new FakeServer(server, (server.address() as AddressInfo).port);
  }

  /**
   * Plays a text script on `res`: `send` for each chunk (`last` on the final one), then `done`;
   * a slow script waits its delay between chunks (cut short by `close`).
   */
  play(
    res: ServerResponse,
    script: Extract<Script, { kind: "text" }>,
    send: (text: string, last: boolean) => void,
    done: () => void,
  ): void {
    let i = 0;
    const next = () => {
      const text = script.chunks[i++];
      if (text === undefined) return done();
      send(text, i === script.chunks.length);
      if (script.delayMs === 0) return next();
      const t = setTimeout(() => {
        this.#timers.delete(t);
        if (!res.destroyed) next();
      }, script.delayMs);
      this.#timers.add(t);
    };
    next();
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, "close");
  }
}
