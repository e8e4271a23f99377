// A scripted stand-in for the Anthropic Messages API on loopback, so the real Claude Code CLI can
// run offline. It fakes the model server, nothing of ours. The reply is chosen by the text of the
// newest user message (the script language of ./fake-script.ts, shared with the fake Gemini API):
//   "reply <text>"      → an assistant text reply
//   "tool <command>"    → a Bash tool call running <command>; after its result, a text reply "done"
//   "mcp <tool> <json>" → a call of agentmux's MCP tool <tool> (`mcp__agentmux__<tool>`) with that
//                         input; after its result, a text reply "done"
//   "call <tool> <json>" → a call of the CLI's own tool <tool> (e.g. Write, Edit) with that input;
//                         after its result, a text reply "done"
//   "error <status>"    → an API error with that HTTP status
//   "slow <n>"          → a text reply streamed as <n> chunks, 200 ms apart (something to interrupt)
//   "hang"              → never answers: the request stays open until the client goes (a silent API)
// anything else        → the text "ok".
// A message that is an agentmux envelope (another agent's message) is scripted by its body.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { FakeServer, type Script, scriptFor } from "./fake-script.js";

/** A running fake Messages API. */
export interface FakeAnthropic {
  /** Its base URL (`http://127.0.0.1:<port>`), for ANTHROPIC_BASE_URL (see `claudeEnv`). */
  url: string;
  /** Every /v1/messages request body, in arrival order. */
  requests: MessagesRequest[];
  /** Stops it: pending streams are cut, open connections closed. */
  close(): Promise<void>;
}

/** One block of a message's content (the fields the fake reads). */
export interface ContentBlock {
  type: string;
  text?: string;
  content?: unknown;
}
/** The part of a Messages API request body the fake reads. */
export interface MessagesRequest {
  stream?: boolean;
  model?: string;
  messages?: { role: string; content: string | ContentBlock[] }[];
}

/** Starts the fake on a free loopback port. */
export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  const requests: MessagesRequest[] = [];
  let ids = 0;
  const fake = await FakeServer.start(createServer, handle);

  function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    const url = req.url ?? "";
    if (!url.startsWith("/v1/messages")) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"type":"error"}');
      return;
    }
    const body = JSON.parse(raw.toString("utf8") || "{}") as MessagesRequest;
    if (url.startsWith("/v1/messages/count_tokens")) {
      res.writeHead(200, { "content-type": "application/json" }).end('{"input_tokens":10}');
      return;
    }
    requests.push(body);
    const script = chooseScript(body);
    if (script.kind === "hang") return; // the response is never written; the socket closes with the client
    if (script.kind === "error") {
      res
        .writeHead(script.status, { "content-type": "application/json" })
        .end(JSON.stringify({ type: "error", error: { type: "api_error", message: `scripted ${script.status}` } }));
      return;
    }
    const id = `msg_${++ids}`;
    const blocks =
      script.kind === "tool"
        ? [{ type: "tool_use", id: `toolu_${ids}`, name: script.name, input: script.input }]
        : [{ type: "text", text: script.chunks.join("") }];
    const stopReason = script.kind === "tool" ? "tool_use" : "end_turn";
    const usage = { input_tokens: 12, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    if (!body.stream) {
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id,
          type: "message",
          role: "assistant",
          model: body.model ?? "claude-fake",
          content: blocks,
          stop_reason: stopReason,
          stop_sequence: null,
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send("message_start", {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model: body.model ?? "claude-fake",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    });
    if (script.kind === "tool") {
      send("content_block_start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "tool_use", id: `toolu_${ids}`, name: script.name, input: {} },
      });
      send("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(script.input) },
      });
    } else {
      send("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    }
    const finish = () => {
      send("content_block_stop", { type: "content_block_stop", index: 0 });
      send("message_delta", {
        type: "message_delta",
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: { output_tokens: usage.output_tokens },
      });
      send("message_stop", { type: "message_stop" });
      res.end();
    };
    if (script.kind === "tool") return finish();
    fake.play(
      res,
      script,
      (text) =>
        send("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }),
      finish,
    );
  }

  return { url: `http://127.0.0.1:${fake.port}`, requests, close: () => fake.close() };
}

function textOf(content: string | ContentBlock[]): string {
  if (typeof content === "string") return content;
  // The CLI prepends system reminders as extra text blocks; the user's words are the last one.
  const texts = content.filter((b) => b.type === "text" && typeof b.text === "string").map((b) => b.text as string);
  return texts.at(-1) ?? "";
}

function chooseScript(body: MessagesRequest): Script {
  // This CLI version appends a system-role message after the conversation; the newest user
  // message is what the script reacts to.
  const last = (body.messages ?? []).filter((m) => m.role === "user").at(-1);
  if (!last) return { kind: "text", chunks: ["ok"], delayMs: 0 };
  // After a tool ran, the newest message carries its result: finish the turn.
  if (Array.isArray(last.content) && last.content.some((b) => b.type === "tool_result")) {
    return { kind: "text", chunks: ["done"], delayMs: 0 };
  }
  return scriptFor(textOf(last.content), { shell: "Bash", mcpPrefix: "mcp__agentmux__" });
}
