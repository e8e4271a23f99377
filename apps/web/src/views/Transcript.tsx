// An agent's transcript, readable: the normalized model rendered as elements, one per event.
import { formatEvent, mergeDeltas, type TranscriptEvent } from "@agentmux/agent-controller/transcript";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import type { TranscriptFeed } from "../lib/feed.js";
import { prettyJson } from "../lib/format.js";
import { FileDiff, fileEdit } from "./FileDiff.js";
import { Markdown } from "./Markdown.js";

/**
 * Transcript events on the page at once (fewer items, once fragments merge). A transcript of
 * any length is shown as a window of this many (the newest, until the reader pages back), so
 * the page stays small and a render never works on the whole transcript.
 */
export const SHOWN = 200;

/**
 * What to show: debug notices hidden; a streamed preview dropped once the whole message of
 * the same kind arrived in the same turn; fragments merged into whole messages.
 */
export function displayEvents(events: readonly TranscriptEvent[]): TranscriptEvent[] {
  const kept: TranscriptEvent[] = [];
  const wholeLater = new Set<string>();
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i] as TranscriptEvent;
    if (e.type === "turn_end") wholeLater.clear();
    if (e.type === "notice" && e.level === "debug") continue;
    if (e.type === "text" || e.type === "thinking") {
      if (e.preview) {
        if (wholeLater.has(e.type)) continue;
      } else wholeLater.add(e.type);
    }
    kept.push(e);
  }
  kept.reverse();
  return mergeDeltas(kept, { keepPreviews: true });
}

function line(e: TranscriptEvent): string {
  return (formatEvent({ ...e, parent: undefined } as TranscriptEvent, { width: 400, verbose: true })[0] ?? "").trim();
}

function Item({ e }: { e: TranscriptEvent }) {
  const base = `item item-${e.type}${e.parent ? " nested" : ""}`;
  const attrs = { "data-testid": "transcript-item", "data-kind": e.type };
  switch (e.type) {
    case "text":
      return (
        <div class={`${base}${e.preview ? " streaming" : ""}`} {...attrs}>
          <Markdown text={e.text} />
        </div>
      );
    case "user":
      return (
        <div class={base} {...attrs}>
          <span class="who">Input</span>
          <Markdown text={e.text} />
        </div>
      );
    case "thinking":
      return (
        <details class={base} {...attrs}>
          <summary>{e.preview ? "Thinking…" : "Thinking"}</summary>
          <Markdown text={e.text} />
        </details>
      );
    case "tool_call": {
      const edit = fileEdit(e.name, e.input);
      return (
        <details class={base} {...attrs}>
          <summary>
            <span aria-hidden="true">→ </span>
            <strong>{e.name}</strong>
            {e.summary && e.summary !== e.name ? <span class="summary"> {e.summary}</span> : null}
          </summary>
          {edit ? <FileDiff edit={edit} /> : <pre>{prettyJson(e.input)}</pre>}
        </details>
      );
    }
    case "tool_result":
      return e.preview === "" ? (
        <div class={`${base} ${e.ok ? "ok" : "fail"}`} {...attrs}>
          {line(e)}
        </div>
      ) : (
        <details class={`${base} ${e.ok ? "ok" : "fail"}`} {...attrs}>
          <summary>{line(e)}</summary>
          <pre>{e.preview}</pre>
        </details>
      );
    case "unknown":
      return (
        <details class={base} {...attrs}>
          <summary>Unrecognized line{e.rawType ? ` (${e.rawType})` : ""}</summary>
          <pre>{e.raw}</pre>
        </details>
      );
    case "turn_end":
      return (
        <div class={`${base}${e.ok ? "" : " fail"}`} {...attrs}>
          {line(e).replace(/^—\s*/, "")}
        </div>
      );
    case "error":
      return (
        <div class={base} {...attrs}>
          <strong>Error: </strong>
          {line(e).replace(/^✗\s*/, "")}
        </div>
      );
    default:
      return (
        <div class={base} {...attrs}>
          {line(e)}
        </div>
      );
  }
}

/** Keys that stay put as the transcript grows: the line's offset and the event's place in it. */
function keyed(events: readonly TranscriptEvent[]): { key: string; e: TranscriptEvent }[] {
  const seen = new Map<number, number>();
  return events.map((e) => {
    const at = e.offset ?? -1;
    const n = seen.get(at) ?? 0;
    seen.set(at, n + 1);
    return { key: `${at}:${n}`, e };
  });
}

function nearBottom(): boolean {
  return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
}

export function Transcript({ feed }: { feed: TranscriptFeed }) {
  const revision = feed.revision;
  /** Windows paged back from the end (0: the newest, followed live). */
  const [back, setBack] = useState(0);
  // A window is SHOWN events of the transcript, counted from its end: a render works on that
  // slice only, however long the transcript and however far back the reader paged.
  const endRaw = Math.max(0, feed.events.length - back * SHOWN);
  const startRaw = Math.max(0, endRaw - SHOWN);
  // The feed mutates its events in place: `revision` says when they changed.
  const items = useMemo(
    () => keyed(displayEvents(feed.events.slice(startRaw, endRaw))),
    [feed, revision, startRaw, endRaw],
  );
  const follow = useRef(true);

  useEffect(() => {
    const onScroll = () => {
      follow.current = nearBottom();
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    return () => window.removeEventListener("scroll", onScroll);
  }, []);
  // Scrolls again whenever the transcript grows, if the reader was at its end.
  useLayoutEffect(() => {
    if (back === 0 && follow.current) window.scrollTo(0, document.documentElement.scrollHeight);
  }, [items, back]);

  const earlier = startRaw > 0;
  return (
    <section class="transcript-wrap" aria-label="Transcript">
      {earlier ? (
        <button type="button" class="linkish" onClick={() => setBack(back + 1)}>
          Show earlier events
        </button>
      ) : null}
      <div class="transcript" data-testid="transcript" role="log" aria-busy={!feed.loaded}>
        {items.map(({ key, e }) => (
          <Item key={key} e={e} />
        ))}
      </div>
      {back > 0 ? (
        <p class="buttons">
          <button type="button" class="linkish" onClick={() => setBack(back - 1)}>
            Show later events
          </button>
          <button type="button" class="linkish" onClick={() => setBack(0)}>
            Back to the newest
          </button>
        </p>
      ) : null}
      {feed.loaded && items.length === 0 ? <p class="muted">Nothing yet: send the agent a message.</p> : null}
      {!feed.loaded ? <p class="muted">Loading the transcript…</p> : null}
      {feed.error ? <p class="muted">Transcript: {feed.error}</p> : null}
    </section>
  );
}
