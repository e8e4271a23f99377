// From raw transcript lines to events: one pure function per provider behind `normalize`.
import { acpEvents } from "./acp.js";
import { claudeEvents } from "./claude.js";
import { codexEvents } from "./codex.js";
import { geminiEvents } from "./gemini.js";
import type {
  JsonObject,
  TextEvent,
  ThinkingEvent,
  TranscriptEvent,
  TranscriptProvider,
  UnknownEvent,
  UserEvent,
} from "./types.js";
import { isRecord, nes, safeJson, utf8Length } from "./util.js";

/** `unknown` events keep this much of the line. */
export const RAW_KEEP = 4096;

const MAPPERS: Record<TranscriptProvider, (line: JsonObject) => TranscriptEvent[] | null> = {
  claude: claudeEvents,
  codex: codexEvents,
  gemini: geminiEvents,
  acp: acpEvents,
};

const GEMINI_TYPES = new Set(["init", "message", "tool_use", "tool_result"]);

/**
 * Which provider wrote `line`, guessed from its shape (for a transcript whose provider is not
 * known): a JSON-RPC message is ACP, a dotted type (`thread.started`, `item.completed`) codex, a
 * gemini-only type gemini (an `error` with a `severity` too; one without is codex's), anything
 * else claude.
 */
export function detectProvider(line: string | JsonObject): TranscriptProvider {
  try {
    const obj: unknown = typeof line === "string" ? JSON.parse(line) : line;
    if (!isRecord(obj)) return "claude";
    if (obj.jsonrpc === "2.0" || (typeof obj.method === "string" && !("type" in obj))) return "acp";
    const type = obj.type;
    if (typeof type !== "string") return "id" in obj ? "acp" : "claude";
    if (type.includes(".") || type === "request_user_input") return "codex";
    if (GEMINI_TYPES.has(type) || (type === "result" && "stats" in obj && !("subtype" in obj))) return "gemini";
    // Claude writes no `error` lines; gemini's carry a severity, codex's do not.
    if (type === "error") return "severity" in obj ? "gemini" : "codex";
    return "claude";
  } catch {
    return "claude";
  }
}

function providerOf(provider: string, obj: JsonObject): TranscriptProvider {
  // Gemini CLI's transcript is ACP (`gemini --acp`), or stream-json when written by an older agentmux.
  if (provider === "gemini" && obj.jsonrpc === "2.0") return "acp";
  return Object.hasOwn(MAPPERS, provider) ? (provider as TranscriptProvider) : detectProvider(obj);
}

function unknownEvent(rawType: string | null, raw: string, offset: number | undefined): UnknownEvent {
  return {
    type: "unknown",
    rawType,
    raw: raw.length > RAW_KEEP ? raw.slice(0, RAW_KEEP) : raw,
    rawLength: raw.length,
    ...(offset !== undefined ? { offset } : {}),
  };
}

function typeTag(obj: JsonObject): string | null {
  const update = isRecord(obj.params) && isRecord(obj.params.update) ? obj.params.update.sessionUpdate : undefined;
  const tag = nes(obj.type) ?? nes(update) ?? nes(obj.method);
  return tag === undefined ? null : tag.slice(0, 200);
}

/** Lines every provider's transcript may hold: the ones the session itself writes. */
function sessionLine(obj: JsonObject): TranscriptEvent[] | null {
  if (obj.type !== "system" || obj.subtype !== "agentmux_session_outcome") return null;
  const attempted = nes(obj.attempted_sid);
  const actual = nes(obj.actual_sid);
  const message =
    obj.outcome === "resumed"
      ? `resumed session ${actual ?? attempted ?? "?"}`
      : `could not resume ${attempted ?? "the session"}; started a new session${actual ? ` ${actual}` : ""}`;
  return [
    { type: "notice", level: "info", subtype: "session_outcome", message, ...(actual ? { sessionId: actual } : {}) },
  ];
}

/**
 * The events of one raw transcript line (a string, or the line already parsed). One line can
 * give several events (an assistant message with text and tool calls), or none (a blank line, a
 * line that only repeats what another line says, such as a claude `stream_event` that starts a
 * block). A line this model does not understand — not JSON, not an object, cut short, a type it
 * does not know — gives one `unknown` event. Never throws. `offset` (the line's byte offset in
 * the transcript) is copied onto every event; `provider` is `claude`, `codex`, `gemini` or
 * `acp` (any other name: guessed per line with `detectProvider`).
 */
export function normalize(
  provider: TranscriptProvider | (string & {}),
  line: string | JsonObject,
  offset?: number,
): TranscriptEvent[] {
  let raw: string | undefined;
  let obj: unknown;
  try {
    if (typeof line === "string") {
      raw = line;
      const text = line.trim();
      if (text === "") return [];
      // Only an object can be a provider line: skip the parse for anything else.
      if (text[0] !== "{") return [unknownEvent(null, line, offset)];
      try {
        obj = JSON.parse(text);
      } catch {
        return [unknownEvent(null, line, offset)];
      }
    } else {
      obj = line;
    }
    if (!isRecord(obj)) return [unknownEvent(null, raw ?? safeJson(obj), offset)];
    const events = sessionLine(obj) ?? MAPPERS[providerOf(String(provider), obj)](obj);
    if (events === null) return [unknownEvent(typeTag(obj), raw ?? safeJson(obj), offset)];
    const timestamp = nes(obj.timestamp);
    const extra = {
      ...(offset !== undefined ? { offset } : {}),
      ...(timestamp !== undefined && timestamp.length <= 64 ? { timestamp } : {}),
    };
    return Object.keys(extra).length === 0 ? events : events.map((e) => ({ ...e, ...extra }));
  } catch {
    // A shape no mapper expected (a getter that throws, a value that cannot be read): unknown.
    let tag: string | null = null;
    try {
      if (isRecord(obj)) tag = typeTag(obj);
    } catch {}
    return [unknownEvent(tag, raw ?? safeJson(obj), offset)];
  }
}

/** What `normalizeChunk` returns. */
export interface NormalizedChunk {
  events: TranscriptEvent[];
  /** The text after the last newline (a line still being written): prepend it to the next chunk. */
  rest: string;
  /** The byte offset of `rest` (pass it as the next chunk's `offset`). */
  restOffset: number;
}

/**
 * The events of a piece of transcript holding many lines: every complete line (ending in `\n`;
 * a `\r` before it is dropped) is normalized with its byte offset, counted from `offset` (default
 * 0). What follows the last newline is returned as `rest`, with its offset, for the caller to put
 * in front of the next chunk; pass `final: true` at the end of the transcript to normalize it too.
 */
export function normalizeChunk(
  provider: TranscriptProvider | (string & {}),
  chunk: string,
  options: { offset?: number; final?: boolean } = {},
): NormalizedChunk {
  const events: TranscriptEvent[] = [];
  let at = options.offset ?? 0;
  let start = 0;
  for (;;) {
    const nl = chunk.indexOf("\n", start);
    if (nl === -1) break;
    const end = nl > start && chunk.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    const line = chunk.slice(start, end);
    for (const e of normalize(provider, line, at)) events.push(e);
    at += utf8Length(chunk.slice(start, nl + 1));
    start = nl + 1;
  }
  let rest = chunk.slice(start);
  const restOffset = at;
  if (options.final && rest !== "") {
    for (const e of normalize(provider, rest, at)) events.push(e);
    rest = "";
  }
  return { events, rest, restOffset: options.final ? restOffset + utf8Length(chunk.slice(start)) : restOffset };
}

/**
 * Joins streamed fragments into whole messages: consecutive `delta` events of the same type
 * (`text`, `thinking`, `user`) and the same `parent` become one event (`delta: false`, the first
 * fragment's offset). `preview` fragments (claude partial messages, whose whole text follows in
 * another event) are dropped unless `keepPreviews` (then they merge among themselves and stay
 * marked `preview`). Other events pass through, in order.
 */
export function mergeDeltas(
  events: readonly TranscriptEvent[],
  options: { keepPreviews?: boolean } = {},
): TranscriptEvent[] {
  const out: TranscriptEvent[] = [];
  // The merged event being built (always the last one in `out`) and its fragments.
  const run: { open: TextEvent | ThinkingEvent | UserEvent | null; parts: string[] } = { open: null, parts: [] };
  const close = () => {
    if (run.open !== null && run.parts.length > 1) out[out.length - 1] = { ...run.open, text: run.parts.join("") };
    run.open = null;
    run.parts = [];
  };
  for (const e of events) {
    if ((e.type === "text" || e.type === "thinking") && e.preview && !options.keepPreviews) continue;
    if ((e.type === "text" || e.type === "thinking" || e.type === "user") && e.delta) {
      if (run.open !== null && run.open.type === e.type && run.open.parent === e.parent) {
        run.parts.push(e.text);
        continue;
      }
      close();
      run.open = { ...e, delta: false };
      run.parts = [e.text];
      out.push(run.open);
      continue;
    }
    close();
    out.push(e);
  }
  close();
  return out;
}
