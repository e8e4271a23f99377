// One line that says what a tool call does, from its name and input, for any provider's tools.
import { arr, isRecord, oneLine, safeJson, str } from "./util.js";

/** Input fields that say the most about a call, best first. */
const TELLING = [
  "command",
  "cmd",
  "file_path",
  "absolute_path",
  "notebook_path",
  "path",
  "dir_path",
  "url",
  "query",
  "pattern",
  "description",
  "prompt",
  "title",
  "name",
] as const;

function commandText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((p) => typeof p === "string")) {
    // `["bash", "-lc", "npm test"]`: the script is what matters.
    const parts = v as string[];
    if (parts.length === 3 && /(^|\/)(ba|z|da)?sh$/.test(parts[0] ?? "") && /^-l?c$/.test(parts[1] ?? ""))
      return parts[2];
    return parts.join(" ");
  }
  return undefined;
}

/** A one-line summary (≤ `max` characters, no newlines) of a call to `name` with `input`. */
export function summarizeTool(name: string, input: unknown, max = 200): string {
  if (typeof input === "string") return oneLine(input, max);
  if (!isRecord(input)) return input === undefined || input === null ? "" : oneLine(safeJson(input), max);
  const lower = name.toLowerCase();
  if (lower === "todowrite" || lower === "write_todos") {
    const todos = arr(input.todos);
    return `${todos.length} todo${todos.length === 1 ? "" : "s"}`;
  }
  if (lower === "grep" || lower === "glob" || lower === "search_file_content") {
    const pattern = str(input.pattern);
    const where = str(input.path) ?? str(input.dir_path) ?? str(input.glob);
    if (pattern !== undefined) return oneLine(where ? `${pattern} in ${where}` : pattern, max);
  }
  for (const key of TELLING) {
    const v = key === "command" || key === "cmd" ? commandText(input[key]) : str(input[key]);
    if (v !== undefined && v.trim() !== "") return oneLine(v, max);
  }
  const keys = Object.keys(input);
  if (keys.length === 0) return "";
  return oneLine(safeJson(input), max);
}
