// Tokens and cost per turn, as a small bar chart: one bar per turn (output tokens), its height
// told in words too (each bar has a title, and the table below the chart is for screen readers).
import type { TranscriptEvent } from "@agentmux/agent-controller/transcript";

export interface Turn {
  n: number;
  input: number;
  output: number;
  /** The turn's own cost (a provider's running total is turned into per-turn steps). */
  usd: number | null;
  ok: boolean;
}

/** The turns of a transcript, from its `turn_end` events. */
export function turnsOf(events: readonly TranscriptEvent[]): Turn[] {
  const turns: Turn[] = [];
  let total = 0;
  for (const ev of events) {
    if (ev.type !== "turn_end") continue;
    let usd: number | null = null;
    if (ev.cost !== undefined) {
      usd = ev.cost.cumulative ? Math.max(0, ev.cost.usd - total) : ev.cost.usd;
      total = ev.cost.cumulative ? ev.cost.usd : total + ev.cost.usd;
    }
    turns.push({
      n: turns.length + 1,
      input: ev.usage?.inputTokens ?? 0,
      output: ev.usage?.outputTokens ?? 0,
      usd,
      ok: ev.ok,
    });
  }
  return turns;
}

const W = 240;
const H = 48;
/** The last turns shown (older ones scroll off the chart; the totals above count them all). */
const LAST = 40;

export function TurnChart({ turns }: { turns: readonly Turn[] }) {
  if (turns.length === 0) return null;
  const shown = turns.slice(-LAST);
  const max = Math.max(1, ...shown.map((t) => t.output));
  const step = W / LAST;
  const cost = turns.reduce((s, t) => s + (t.usd ?? 0), 0);
  return (
    <figure class="turn-chart" data-testid="turn-chart">
      <figcaption>
        Output tokens per turn ({turns.length} turn{turns.length === 1 ? "" : "s"}, ${cost.toFixed(4)})
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label="Output tokens per turn">
        {shown.map((t, i) => {
          const h = Math.max(1, Math.round((t.output / max) * (H - 2)));
          return (
            <rect
              key={t.n}
              class={t.ok ? "bar" : "bar bar-failed"}
              x={i * step + 1}
              y={H - h}
              width={Math.max(1, step - 2)}
              height={h}
            >
              <title>{`turn ${t.n}: ${t.input} in, ${t.output} out${t.usd === null ? "" : `, $${t.usd.toFixed(4)}`}${t.ok ? "" : ", failed"}`}</title>
            </rect>
          );
        })}
      </svg>
    </figure>
  );
}
