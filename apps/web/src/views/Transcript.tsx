// An agent's transcript, readable: the normalized model rendered as elements, one per event.
import { formatEvent, mergeDeltas, type TranscriptEvent } from "@agentmux/agent-controller/transcript";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import type { TranscriptFeed } from "../lib/feed.js";
import { prettyJson } from "../lib/format.js";
import { FileDiff, fileEdit } from "./FileDiff.js";
import { Markdown } from "./Markdown.js";

/**
 * Transcript events on the page at once (fewer items, once fragments merge). A transcript of
 * any length is shown as a window of this many (the newest, until the reader scrolls back), so
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

function Item({ e, k }: { e: TranscriptEvent; k: string }) {
  const base = `item item-${e.type}${e.parent ? " nested" : ""}`;
  const attrs = { "data-testid": "transcript-item", "data-kind": e.type, "data-key": k };
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

/** How far (px) from the transcript's top or bottom the reader is "there": the window moves. */
const NEAR = 300;
/** Events the window moves by when the reader reaches one of its ends. */
const STEP = SHOWN / 2;

/** Where the reader is: the transcript's top or bottom within reach of the viewport. */
function reach(el: HTMLElement): { top: boolean; bottom: boolean } {
  const r = el.getBoundingClientRect();
  return { top: r.top > -NEAR, bottom: r.bottom < window.innerHeight + NEAR };
}

/** The item at the viewport's top, and where it is: kept in place while the window moves. */
function topItem(el: HTMLElement): { key: string; top: number } | null {
  for (const child of el.children) {
    const r = child.getBoundingClientRect();
    if (r.bottom > 0) return { key: (child as HTMLElement).dataset.key ?? "", top: r.top };
  }
  return null;
}

/**
 * The window: while following the newest, its last `size` events; once the reader scrolled
 * away, [start, end) of `feed.events` as they were when `prepended` events had been read back
 * (history read later shifts them; live output does not).
 */
type Window = { size: number } | { start: number; end: number; prepended: number };

/**
 * An agent's transcript as a window of about SHOWN events. At the newest, it follows the
 * transcript live; scrolling to the window's top moves it back (reading earlier history from
 * srv when the page holds no more), scrolling to its bottom moves it forward again. The item
 * at the viewport's top stays put as the window moves.
 */
export function Transcript({ feed }: { feed: TranscriptFeed }) {
  const revision = feed.revision;
  const total = feed.events.length;
  const [win, setWin] = useState<Window>({ size: SHOWN });
  const following = "size" in win;
  let startRaw: number;
  let endRaw: number;
  if ("size" in win) {
    endRaw = total;
    startRaw = Math.max(0, total - win.size);
  } else {
    const shift = feed.prepended - win.prepended;
    startRaw = Math.min(total, win.start + shift);
    endRaw = Math.min(total, win.end + shift);
  }
  // The feed mutates its events in place: `revision` says when they changed.
  const items = useMemo(
    () => keyed(displayEvents(feed.events.slice(startRaw, endRaw))),
    [feed, revision, startRaw, endRaw],
  );
  const list = useRef<HTMLDivElement>(null);
  const follow = useRef(true);
  const keep = useRef<{ key: string; top: number } | null>(null);
  /** "Back to the newest" was asked: the next render goes to the end, whatever a scroll said meanwhile. */
  const jump = useRef(false);

  /** Shows [start, end) of `feed.events`, the item at the viewport's top kept in place. */
  const move = (start: number, end: number) => {
    if (list.current) keep.current = topItem(list.current);
    setWin(end >= feed.events.length ? { size: end - start } : { start, end, prepended: feed.prepended });
  };
  // What the reader's place asks for: runs on scroll and after every render. The window only
  // drops events at an end the reader cannot see.
  const check = useRef(() => {});
  check.current = () => {
    const el = list.current;
    if (el === null || keep.current !== null || jump.current) return;
    const { top, bottom } = reach(el);
    follow.current = following && bottom;
    if (top && startRaw > 0) {
      const start = Math.max(0, startRaw - STEP);
      move(start, bottom ? endRaw : Math.min(endRaw, start + SHOWN));
    } else if (top && feed.hasEarlier) void feed.loadEarlier();
    else if (bottom && !following) {
      const end = Math.min(total, endRaw + STEP);
      move(top ? startRaw : Math.max(startRaw, end - SHOWN), end);
    } else if (!bottom && following && startRaw < endRaw)
      setWin({ start: startRaw, end: endRaw, prepended: feed.prepended });
  };
  useEffect(() => {
    let frame = 0;
    const onScroll = () => {
      if (frame === 0)
        frame = requestAnimationFrame(() => {
          frame = 0;
          check.current();
        });
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    return () => {
      window.removeEventListener("scroll", onScroll);
      cancelAnimationFrame(frame);
    };
  }, []);
  useLayoutEffect(() => {
    const kept = keep.current;
    keep.current = null;
    if (jump.current) {
      jump.current = false;
      follow.current = true;
      window.scrollTo(0, document.documentElement.scrollHeight);
    } else if (kept !== null) {
      const el = list.current?.querySelector<HTMLElement>(`[data-key="${CSS.escape(kept.key)}"]`);
      if (el) window.scrollBy(0, el.getBoundingClientRect().top - kept.top);
    } else if (following && follow.current) window.scrollTo(0, document.documentElement.scrollHeight);
    check.current();
  }, [items, win]);

  const newest = () => {
    jump.current = true;
    setWin({ size: SHOWN });
  };
  return (
    <section class="transcript-wrap" aria-label="Transcript">
      {feed.loadingEarlier ? <p class="muted">Loading earlier events…</p> : null}
      {feed.loaded && startRaw === 0 && !feed.hasEarlier && items.length > 0 ? (
        <p class="muted">The start of the transcript.</p>
      ) : null}
      <div
        ref={list}
        class="transcript"
        data-testid="transcript"
        data-from={feed.from}
        role="log"
        aria-busy={!feed.loaded}
      >
        {items.map(({ key, e }) => (
          <Item key={key} k={key} e={e} />
        ))}
      </div>
      {!following ? (
        <p class="buttons">
          <button type="button" class="linkish" onClick={newest}>
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
