// A file edit a tool call makes (Edit, MultiEdit, Write), shown as removed and added lines. It
// is the call's own before and after, not a diff of the file: the page never reads the file.
// Every line is text in a span: the agent's output is never parsed as HTML.

export interface DiffLine {
  sign: "-" | "+";
  text: string;
}

export interface FileEdit {
  path: string;
  /** One hunk per replacement (a Write is one hunk of added lines). */
  hunks: DiffLine[][];
}

function record(v: unknown): Record<string, unknown> | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function lines(sign: DiffLine["sign"], text: string): DiffLine[] {
  if (text === "") return [];
  // A trailing newline ends the last line; it does not start another.
  const parts = text.replace(/\r?\n$/, "").split(/\r?\n/);
  return parts.map((t) => ({ sign, text: t }));
}

function hunk(v: unknown): DiffLine[] | null {
  const r = record(v);
  const oldText = str(r?.old_string);
  const newText = str(r?.new_string);
  if (oldText === null || newText === null) return null;
  return [...lines("-", oldText), ...lines("+", newText)];
}

/** The edit a tool call makes, if it is one this page knows how to show. */
export function fileEdit(name: string, input: unknown): FileEdit | null {
  const r = record(input);
  const path = str(r?.file_path);
  if (r === null || path === null) return null;
  switch (name) {
    case "Edit": {
      const h = hunk(r);
      return h ? { path, hunks: [h] } : null;
    }
    case "MultiEdit": {
      if (!Array.isArray(r.edits)) return null;
      const hunks: DiffLine[][] = [];
      for (const e of r.edits) {
        const h = hunk(e);
        if (h === null) return null;
        hunks.push(h);
      }
      return { path, hunks };
    }
    case "Write": {
      const content = str(r.content);
      return content === null ? null : { path, hunks: [lines("+", content)] };
    }
    default:
      return null;
  }
}

export function FileDiff({ edit }: { edit: FileEdit }) {
  // One block for the whole call; each replacement after the first starts with a gap.
  const rows = edit.hunks.flatMap((h, i) => h.map((l, j) => ({ ...l, gap: i > 0 && j === 0 })));
  return (
    <div class="file-edit">
      <h3 class="diff-file">{edit.path}</h3>
      <pre class="diff">
        {rows.map((l, i) => (
          <span key={i} class={`${l.sign === "-" ? "del" : "add"}${l.gap ? " gap" : ""}`}>
            {`${l.sign} ${l.text}`}
          </span>
        ))}
      </pre>
    </div>
  );
}
