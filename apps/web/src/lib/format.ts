// Numbers and times as the dashboard shows them.
import { formatCount, formatUsd } from "@agentmux/agent-controller/transcript";

export { formatCount, formatUsd };

/** "just now", "42 s ago", "5 min ago", "3 h ago", else the date. */
export function ago(ms: number | null | undefined, now: number): string {
  if (ms == null || ms === 0) return "—";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

/** One line of JSON (or the string itself), cut to `max` characters. */
export function oneLineOf(value: unknown, max = 160): string {
  let text: string;
  if (typeof value === "string") text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  text = text.replace(/\s+/g, " ").trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Pretty JSON for a folded block, cut so one huge input cannot stall the page. */
export function prettyJson(value: unknown, max = 20_000): string {
  let text: string;
  if (typeof value === "string") text = value;
  else {
    try {
      text = JSON.stringify(value, null, 2) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters)` : text;
}
