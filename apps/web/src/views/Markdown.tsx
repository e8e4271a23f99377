// A small, safe Markdown subset for agent text: paragraphs, fenced code blocks, inline code and
// bold. It builds elements from text (never HTML), so nothing an agent writes can become markup.
import type { ComponentChildren } from "preact";

type Block = { kind: "p"; lines: string[] } | { kind: "code"; lang: string; text: string };

function blocks(text: string): Block[] {
  const out: Block[] = [];
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  let para: string[] = [];
  const endPara = () => {
    if (para.length > 0) out.push({ kind: "p", lines: para });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const fence = /^\s*(```+|~~~+)\s*([\w+-]*)/.exec(line);
    if (fence?.[1]) {
      endPara();
      const close = fence[1];
      const body: string[] = [];
      i++;
      while (i < lines.length && !(lines[i] ?? "").trim().startsWith(close)) {
        body.push(lines[i] ?? "");
        i++;
      }
      out.push({ kind: "code", lang: fence[2] ?? "", text: body.join("\n") });
      continue;
    }
    if (line.trim() === "") endPara();
    else para.push(line);
  }
  endPara();
  return out;
}

const INLINE = /`([^`\n]+)`|\*\*([^*\n](?:[^*\n]|\*(?!\*))*?)\*\*/g;

function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let at = 0;
  for (const m of text.matchAll(INLINE)) {
    const start = m.index ?? 0;
    if (start > at) out.push(text.slice(at, start));
    if (m[1] !== undefined) out.push(<code>{m[1]}</code>);
    else out.push(<strong>{m[2]}</strong>);
    at = start + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

function paragraph(lines: string[]): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  lines.forEach((line, i) => {
    if (i > 0) out.push(<br />);
    // A heading reads as a bold line: enough structure without a full renderer.
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) out.push(<strong>{inline(heading[1] ?? "")}</strong>);
    else out.push(...inline(line));
  });
  return out;
}

export function Markdown({ text }: { text: string }) {
  return (
    <div class="md">
      {blocks(text).map((b, i) =>
        b.kind === "code" ? (
          <pre key={i} data-lang={b.lang || undefined}>
            <code>{b.text}</code>
          </pre>
        ) : (
          <p key={i}>{paragraph(b.lines)}</p>
        ),
      )}
    </div>
  );
}
