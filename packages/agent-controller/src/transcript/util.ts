// Defensive readers for untrusted JSON: every helper returns a plain value or undefined, never
// throws on odd input (null-prototype objects, huge strings, deep nesting).
import type { JsonObject, TranscriptErrorKind, TranscriptEvent, TranscriptUsage } from "./types.js";

export function isRecord(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function rec(v: unknown): JsonObject | undefined {
  return isRecord(v) ? v : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** A non-empty string, else undefined. */
export function nes(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** A finite, non-negative number, else undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** JSON text of `v`, or a placeholder when it cannot be serialized (a BigInt, a cycle). */
export function safeJson(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    return typeof s === "string" ? s : String(v);
  } catch {
    return "[unserializable]";
  }
}

/** Cut to `max` characters, with `…` when something was cut. */
export function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  return `${s.slice(0, Math.max(0, max - 1))}…`;
}

/** One line: whitespace runs (newlines included) become one space; cut to `max`. */
export function oneLine(s: string, max = 200): string {
  // Cut first: collapsing whitespace in a 50 MB string would be slow for nothing.
  const head = s.length > max * 4 ? s.slice(0, max * 4) : s;
  return cut(head.replace(/\s+/g, " ").trim(), max);
}

/** The number of lines in `s` (a trailing newline does not start a new one); 0 for "". */
export function countLines(s: string): number {
  if (s === "") return 0;
  let n = 1;
  let at = s.indexOf("\n");
  while (at !== -1) {
    if (at !== s.length - 1) n++;
    at = s.indexOf("\n", at + 1);
  }
  return n;
}

/** The first `maxLines` lines of `s`, at most `maxChars` characters. */
export function previewText(s: string, maxLines = 10, maxChars = 500): string {
  let text = s.length > maxChars ? s.slice(0, maxChars) : s;
  let at = -1;
  for (let i = 0; i < maxLines; i++) {
    at = text.indexOf("\n", at + 1);
    if (at === -1) break;
  }
  if (at !== -1 && at < text.length - 1) text = text.slice(0, at);
  text = text.replace(/\s+$/, "");
  return text.length < s.replace(/\s+$/, "").length ? `${text}…` : text;
}

/** The UTF-8 length of `s` in bytes (a lone surrogate counts as the 3-byte replacement character). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * The text of a content value: a string, an array of blocks (`{type:"text",text}` and the like;
 * other blocks become `[image]`, `[resource …]`), or anything else as JSON.
 */
export function contentText(content: unknown, depth = 0): string {
  if (typeof content === "string") return content;
  if (content === undefined || content === null) return "";
  if (depth > 4) return safeJson(content);
  if (Array.isArray(content)) {
    return content
      .map((b) => contentText(b, depth + 1))
      .filter((t) => t !== "")
      .join("\n");
  }
  const block = rec(content);
  if (!block) return String(content);
  const text = str(block.text);
  if (text !== undefined) return text;
  switch (block.type) {
    case "image":
      return "[image]";
    case "audio":
      return "[audio]";
    case "resource_link":
      return `[resource ${str(block.uri) ?? str(block.name) ?? ""}]`.replace(" ]", "]");
    case "resource": {
      const inner = rec(block.resource);
      return str(inner?.text) ?? `[resource ${str(inner?.uri) ?? ""}]`.replace(" ]", "]");
    }
    case "content":
      return contentText(block.content, depth + 1);
    case "diff":
      return `[diff ${str(block.path) ?? ""}]`.replace(" ]", "]");
    case "terminal":
      return `[terminal ${str(block.terminalId) ?? ""}]`.replace(" ]", "]");
  }
  if ("content" in block) return contentText(block.content, depth + 1);
  return safeJson(content);
}

/** A `TranscriptUsage` from fields named any of the providers' ways; undefined when none is there. */
export function usageOf(
  u: unknown,
  names: { input: string[]; output: string[]; cacheRead: string[]; cacheWrite: string[] },
): TranscriptUsage | undefined {
  const r = rec(u);
  if (!r) return undefined;
  const pick = (keys: string[]) => {
    for (const k of keys) {
      const v = num(r[k]);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const usage = {
    inputTokens: pick(names.input),
    outputTokens: pick(names.output),
    cacheReadTokens: pick(names.cacheRead),
    cacheWriteTokens: pick(names.cacheWrite),
  };
  if (Object.values(usage).every((v) => v === undefined)) return undefined;
  return {
    inputTokens: usage.inputTokens ?? 0,
    outputTokens: usage.outputTokens ?? 0,
    cacheReadTokens: usage.cacheReadTokens ?? 0,
    cacheWriteTokens: usage.cacheWriteTokens ?? 0,
  };
}

/**
 * Sorts an error text into a kind, the way the session classifies faults (and a little more: a
 * bare "429", "resource exhausted" and "quota" are rate limits too): credentials problems are
 * fatal; rate limits, overload and server errors are transient; anything else is fatal.
 */
export function classifyError(
  text: string,
  status?: number,
): { kind: TranscriptErrorKind; fatal: boolean; resetsAt?: number } {
  const t = text.toLowerCase();
  const limit = /usage limit reached\|(\d{9,11})/i.exec(text);
  if (limit?.[1]) return { kind: "rate_limit", fatal: false, resetsAt: Number(limit[1]) };
  if (
    status === 401 ||
    status === 403 ||
    /unauthori[sz]ed|forbidden|token expired|authentication|invalid api key/.test(t)
  )
    return { kind: "auth", fatal: true };
  if (status === 429 || /rate.?limit|usage limit|too many requests|\b429\b|resource.{0,20}exhausted|quota/.test(t))
    return { kind: "rate_limit", fatal: false };
  if ((status !== undefined && status >= 500) || /overloaded|capacity|unavailable|\b5\d\d\b/.test(t))
    return { kind: "overloaded", fatal: false };
  return { kind: "error", fatal: true };
}

/** The notice a session's start line makes: `session <id> · <model> · <cwd> · <extra>`, with those fields kept. */
export function initNotice(
  fields: { sessionId?: string | undefined; model?: string | undefined; cwd?: string | undefined },
  extra?: string,
): TranscriptEvent {
  const { sessionId, model, cwd } = fields;
  const parts = [sessionId ? `session ${sessionId}` : "session started", model, cwd, extra];
  return {
    type: "notice",
    level: "info",
    subtype: "init",
    message: parts.filter((p) => p !== undefined).join(" · "),
    ...(sessionId ? { sessionId } : {}),
    ...(model ? { model } : {}),
    ...(cwd ? { cwd } : {}),
  };
}
