// Short, human-readable lines for one event: what `agent logs` prints in a terminal.
import type { TranscriptEvent, TranscriptUsage } from "./types.js";
import { cut, oneLine } from "./util.js";

export interface FormatOptions {
  /** Cut one-line forms (tool calls, results, notices, errors) to this many characters. Default 160. Message text is never cut. */
  width?: number;
  /** ANSI colours. Default false: plain text. */
  color?: boolean;
  /** Also show `debug` notices (protocol chatter). Default false: they format to no lines. */
  verbose?: boolean;
}

const ANSI = { dim: 2, bold: 1, red: 31, green: 32, yellow: 33, cyan: 36, magenta: 35 } as const;

/** A compact count: 950, 1.2k, 3.4M. */
export function formatCount(n: number): string {
  if (n < 1000) return String(Math.round(n));
  if (n < 1_000_000) return `${trimZero((n / 1000).toFixed(n < 10_000 ? 1 : 0))}k`;
  return `${trimZero((n / 1_000_000).toFixed(1))}M`;
}

function trimZero(s: string): string {
  return s.endsWith(".0") ? s.slice(0, -2) : s;
}

/** A duration: 850ms, 1.2s, 2m05s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${trimZero((ms / 1000).toFixed(1))}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/** US dollars: $0.0123 under a dollar, $1.23 above. */
export function formatUsd(usd: number): string {
  return `$${usd < 1 ? usd.toFixed(4) : usd.toFixed(2)}`;
}

function usageText(u: TranscriptUsage): string {
  const cached = u.cacheReadTokens > 0 ? ` (${formatCount(u.cacheReadTokens)} cached)` : "";
  return `${formatCount(u.inputTokens)} in${cached} / ${formatCount(u.outputTokens)} out`;
}

function textLines(text: string): string[] {
  return text.replace(/\n+$/, "").split("\n");
}

/**
 * The event as lines of text for a terminal: assistant text as it is; `→ Bash: npm test` for a
 * tool call; `← ok (12 lines)` / `← error: …` for its result; `? permission: …`;
 * `— turn done: 1.2k in / 350 out, $0.0123, 4.1s`; `✗ rate limit: …` for errors; `· …` for
 * notices (`!` for warnings); `? unrecognized: …` for lines the model does not understand.
 * Events inside a subagent are indented. No ANSI colour unless `color: true`. A `debug` notice
 * gives no lines unless `verbose`. Fragments (`delta`) give their own text: merge them first
 * (`mergeDeltas`) to print whole messages.
 */
export function formatEvent(event: TranscriptEvent, options: FormatOptions = {}): string[] {
  const width = Math.max(20, options.width ?? 160);
  const paint = (code: number, s: string) => (options.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const line = (s: string) => cut(s, width);
  let lines: string[];
  switch (event.type) {
    case "text":
      lines = textLines(event.text);
      break;
    case "user":
      lines = textLines(event.text).map((l) => paint(ANSI.bold, `> ${l}`));
      break;
    case "thinking":
      lines = textLines(event.text).map((l, i) => paint(ANSI.dim, i === 0 ? `thinking: ${l}` : l && `  ${l}`));
      break;
    case "tool_call":
      lines = [paint(ANSI.cyan, line(`→ ${labelled(event.name, event.summary)}`))];
      break;
    case "tool_result": {
      const first = oneLine(event.preview.split("\n")[0] ?? "", width);
      const more = event.lines > 1 ? ` (${event.lines} lines)` : "";
      if (!event.ok) lines = [paint(ANSI.red, line(`← error: ${first || "failed"}${more}`))];
      else if (event.lines === 0) lines = [paint(ANSI.green, "← ok")];
      else if (event.lines === 1) lines = [paint(ANSI.green, line(`← ok: ${first}`))];
      else lines = [paint(ANSI.green, line(`← ok${more}`))];
      break;
    }
    case "permission_request":
      lines = [paint(ANSI.magenta, line(`? permission: ${labelled(event.tool, event.summary)}`))];
      break;
    case "turn_end": {
      const parts: string[] = [];
      if (event.usage) parts.push(usageText(event.usage));
      if (event.cost) parts.push(`${formatUsd(event.cost.usd)}${event.cost.cumulative ? " total" : ""}`);
      if (event.durationMs !== undefined) parts.push(formatDuration(event.durationMs));
      const tail = parts.length > 0 ? `: ${parts.join(", ")}` : "";
      if (event.ok) lines = [paint(ANSI.dim, line(`— turn done${tail}`))];
      else if (event.reason === "cancelled" || event.message === "interrupted")
        lines = [paint(ANSI.yellow, line(`— turn interrupted${tail}`))];
      else {
        const why = event.message ? ` — ${oneLine(event.message, width)}` : "";
        lines = [
          paint(ANSI.red, line(`— turn failed (${event.reason})${why}${parts.length ? `; ${parts.join(", ")}` : ""}`)),
        ];
      }
      break;
    }
    case "error": {
      const label = event.kind === "error" ? "error" : event.kind.replace("_", " ");
      const resets = event.resetsAt !== undefined ? ` (resets ${resetTime(event.resetsAt)})` : "";
      lines = [paint(ANSI.red, line(`✗ ${label}: ${oneLine(event.message, width)}${resets}`))];
      break;
    }
    case "notice":
      if (event.level === "debug" && !options.verbose) return [];
      lines = [
        event.level === "warning"
          ? paint(ANSI.yellow, line(`! ${oneLine(event.message, width)}`))
          : paint(ANSI.dim, line(`· ${oneLine(event.message, width)}`)),
      ];
      break;
    case "unknown":
      lines = [
        paint(
          ANSI.dim,
          line(`? unrecognized${event.rawType ? ` ${event.rawType}` : ""}: ${oneLine(event.raw, width)}`),
        ),
      ];
      break;
    default:
      return [];
  }
  return event.parent ? lines.map((l) => `  ${l}`) : lines;
}

/** `name: summary`, or the name alone when the summary is empty or says the same. */
function labelled(name: string, summary: string): string {
  return summary && summary !== name ? `${name}: ${summary}` : name;
}

function resetTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return Number.isNaN(d.getTime()) ? String(unixSeconds) : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
