// Shared helpers for benchmarks: one JSON line per figure, medians, a seeded PRNG.

export interface Figure {
  bench: string;
  value: number;
  unit: string;
  baseline: string;
  baseline_value: number;
  ratio: number;
  goal: string;
  pass: boolean;
  /** Extra facts measured alongside (e.g. drops). */
  [extra: string]: string | number | boolean;
}

const round = (n: number) => Number(n.toPrecision(4));

export function emit(f: Figure): void {
  process.stdout.write(
    `${JSON.stringify({ ...f, value: round(f.value), baseline_value: round(f.baseline_value), ratio: round(f.ratio) })}\n`,
  );
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** A small deterministic PRNG, so every run does the same work. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
