// A scripted stand-in for the Gemini API (generativelanguage v1beta) on loopback, so the real
// Gemini CLI can run offline (GOOGLE_GEMINI_BASE_URL, see `geminiEnv`). It fakes the model
// server, nothing of ours. The reply is chosen by the text of the newest user message, in the
// script language of ./fake-script.ts ("reply <text>", "tool <command>", "error <status>",
// "slow <n>", "hang", …); the shell tool is the CLI's `run_shell_command`.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { FakeServer, type Script, scriptFor } from "./fake-script.js";

/** One part of a content (the fields the fake reads). */
export interface GeminiPart {
  text?: string;
  functionCall?: unknown;
  functionResponse?: unknown;
}
/** The part of a generateContent request body the fake reads. */
export interface GeminiRequest {
  contents?: { role?: string; parts?: GeminiPart[] }[];
}

/** A running fake Gemini API. */
export interface FakeGemini {
  /** Its base URL (`http://127.0.0.1:<port>`), for GOOGLE_GEMINI_BASE_URL. */
  url: string;
  /** Every streamGenerateContent request body, in arrival order. */
  requests: GeminiRequest[];
  /** Stops it: pending streams are cut, open connections closed. */
  close(): Promise<void>;
}

const USAGE = { promptTokenCount: 12, candidatesTokenCount: 7, totalTokenCount: 19 };
const STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

/** Starts the fake on a free loopback port. */
export async function startFakeGemini(): Promise<FakeGemini> {
  const requests: GeminiRequest[] = [];
  const fake = await FakeServer.start(createServer, handle);

  function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
    const url = req.url ?? "";
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (url.includes(":countTokens")) return json(200, { totalTokens: 10 });
    const body = JSON.parse(raw.toString("utf8") || "{}") as GeminiRequest;
    if (url.includes(":generateContent")) {
      // The CLI's helper calls (model routing, summaries) ask for JSON: a plain, valid answer.
      const text = JSON.stringify({ complexity_reasoning: "scripted", complexity_score: 1 });
      return json(200, { candidates: [candidate([{ text }], true)], usageMetadata: USAGE });
    }
    if (!url.includes(":streamGenerateContent")) {
      return json(404, { error: { code: 404, message: `no such method: ${url}`, status: "NOT_FOUND" } });
    }
    requests.push(body);
    const script = chooseScript(body);
    if (script.kind === "hang") return; // never answered; the socket closes with the client
    if (script.kind === "error") {
      const status = STATUS[script.status] ?? "UNKNOWN";
      // A 429 worded as the real API words it: the CLI passes the message on.
      const message =
        script.status === 429 ? "Resource has been exhausted (e.g. check quota)." : `scripted ${script.status}`;
      return json(script.status, { error: { code: script.status, message, status } });
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const send = (parts: GeminiPart[], last: boolean) =>
      res.write(
        `data: ${JSON.stringify({ candidates: [candidate(parts, last)], ...(last ? { usageMetadata: USAGE } : {}) })}\r\n\r\n`,
      );
    if (script.kind === "tool") {
      send([{ functionCall: { name: script.name, args: script.input } }], true);
      res.end();
      return;
    }
    fake.play(
      res,
      script,
      (text, last) => send([{ text }], last),
      () => res.end(),
    );
  }

  return { url: `http://127.0.0.1:${fake.port}`, requests, close: () => fake.close() };
}

function candidate(parts: GeminiPart[], last: boolean) {
  return { content: { role: "model", parts }, index: 0, ...(last ? { finishReason: "STOP" } : {}) };
}

function chooseScript(body: GeminiRequest): Script {
  const last = (body.contents ?? []).filter((c) => c.role === "user").at(-1);
  const parts = last?.parts ?? [];
  // After a tool ran, the newest user content carries its result: finish the turn.
  if (parts.some((p) => p.functionResponse !== undefined)) return { kind: "text", chunks: ["done"], delayMs: 0 };
  // The CLI puts its session context before the user's words: the last text part is theirs.
  const text = parts.filter((p) => typeof p.text === "string").at(-1)?.text ?? "";
  return scriptFor(text, { shell: "run_shell_command", mcpPrefix: "" });
}
