// A scripted stand-in for the OpenAI Responses API on loopback, so the real Codex CLI can run
// offline (a `model_providers` entry whose base_url is this server, see `codexEnv`). It fakes the
// model server, nothing of ours. The reply is chosen by the text of the newest user message, in
// the script language of ./fake-script.ts; the shell tool is codex's `exec_command`.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { FakeServer, type Script, scriptFor } from "./fake-script.js";

/** One input item of a Responses request (the fields the fake reads). */
export interface ResponsesItem {
  type?: string;
  role?: string;
  content?: { type?: string; text?: string }[];
}
/** The part of a Responses request body the fake reads. */
export interface ResponsesRequest {
  model?: string;
  input?: ResponsesItem[];
}

/** A running fake Responses API. */
export interface FakeOpenAI {
  /** Its base URL for a model provider (`http://127.0.0.1:<port>/v1`). */
  url: string;
  /** Every /v1/responses request body, in arrival order. */
  requests: ResponsesRequest[];
  /** Stops it: pending streams are cut, open connections closed. */
  close(): Promise<void>;
}

const USAGE = {
  input_tokens: 12,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 7,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 19,
};

/** Starts the fake on a free loopback port. */
export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: ResponsesRequest[] = [];
  let ids = 0;
  const fake = await FakeServer.start(createServer, handle);

  function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    if (req.method !== "POST" || !(req.url ?? "").endsWith("/responses")) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"not found"}}');
      return;
    }
    const body = JSON.parse(raw.toString("utf8") || "{}") as ResponsesRequest;
    requests.push(body);
    const script = chooseScript(body);
    if (script.kind === "hang") return; // never answered; the socket closes with the client
    if (script.kind === "error") {
      const type = script.status === 429 ? "rate_limit_exceeded" : "server_error";
      const message = script.status === 429 ? "Rate limit reached for requests" : `scripted ${script.status}`;
      res
        .writeHead(script.status, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { message, type, code: type } }));
      return;
    }
    const n = ++ids;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const send = (type: string, data: Record<string, unknown>) =>
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    const completed = () => {
      send("response.completed", { response: { id: `resp_${n}`, usage: USAGE } });
      res.end();
    };
    send("response.created", { response: { id: `resp_${n}` } });
    if (script.kind === "tool") {
      const args =
        script.name === "exec_command" ? { cmd: (script.input as { command?: string }).command } : script.input;
      const item = {
        type: "function_call",
        id: `fc_${n}`,
        call_id: `call_${n}`,
        name: script.name,
        arguments: JSON.stringify(args),
      };
      send("response.output_item.done", { output_index: 0, item });
      return completed();
    }
    const id = `msg_${n}`;
    send("response.output_item.added", {
      output_index: 0,
      item: { type: "message", id, role: "assistant", status: "in_progress", content: [] },
    });
    fake.play(
      res,
      script,
      (text) => send("response.output_text.delta", { item_id: id, output_index: 0, content_index: 0, delta: text }),
      () => {
        const whole = script.chunks.join("");
        const content = [{ type: "output_text", text: whole, annotations: [] }];
        send("response.output_item.done", {
          output_index: 0,
          item: { type: "message", id, role: "assistant", status: "completed", content },
        });
        completed();
      },
    );
  }

  return { url: `http://127.0.0.1:${fake.port}/v1`, requests, close: () => fake.close() };
}

function chooseScript(body: ResponsesRequest): Script {
  const input = body.input ?? [];
  // After a tool ran, the request ends with its output: finish the turn.
  if (/_output$/.test(input.at(-1)?.type ?? "")) return { kind: "text", chunks: ["done"], delayMs: 0 };
  const last = input.filter((i) => i.type === "message" && i.role === "user").at(-1);
  const text = (last?.content ?? []).map((c) => c.text ?? "").join("");
  return scriptFor(text, { shell: "exec_command", mcpPrefix: "" });
}
