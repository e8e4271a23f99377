// NDJSON decode throughput: bytes arriving in 64 KiB socket-sized chunks,
// framed by NdjsonDecoder and parsed with JSON.parse, against the baseline of
// JSON.parse alone over the same lines already split into strings.
import { NdjsonDecoder } from "@agentmux/common-ipc";
import { emit, median, mulberry32 } from "./lib.ts";

const FRAMES = 200_000;
const CHUNK = 64 * 1024;
const ROUNDS = 7;

const rand = mulberry32(7);
const lines: string[] = [];
for (let i = 0; i < FRAMES; i++) {
  const r = rand();
  if (r < 0.5) {
    lines.push(
      JSON.stringify({ event: "tab_created", workspace_id: `w-${i}`, tab_id: `t-${i}`, name: "Tab 1", version: i }),
    );
  } else if (r < 0.9) {
    const text = "é✓ output line ".repeat(1 + Math.floor(rand() * 40));
    lines.push(
      JSON.stringify({ event: "block_output", block_id: `b-${i % 50}`, offset: i * 100, data: text, version: 0 }),
    );
  } else {
    lines.push(
      JSON.stringify({ cmd: "update_block_meta", block_id: `b-${i}`, meta_patch: { a: i, b: [1, 2, 3], c: null } }),
    );
  }
}
const whole = Buffer.from(`${lines.join("\r\n")}\r\n`, "utf8");
const chunks: Buffer[] = [];
for (let i = 0; i < whole.length; i += CHUNK) chunks.push(whole.subarray(i, i + CHUNK));
const mb = whole.length / 1e6;

let sink = 0;

function baseline(): number {
  const start = process.hrtime.bigint();
  for (const line of lines) sink += JSON.parse(line).version ?? 1;
  return mb / (Number(process.hrtime.bigint() - start) / 1e9);
}

function decoder(): number {
  const start = process.hrtime.bigint();
  const d = new NdjsonDecoder();
  const out: ReturnType<NdjsonDecoder["push"]> = [];
  for (const chunk of chunks) {
    d.push(chunk, out);
    for (const f of out) if (f.ok) sink += JSON.parse(f.frame).version ?? 1;
    out.length = 0;
  }
  d.end();
  return mb / (Number(process.hrtime.bigint() - start) / 1e9);
}

const base: number[] = [];
const ours: number[] = [];
baseline();
decoder();
for (let r = 0; r < ROUNDS; r++) {
  base.push(baseline());
  ours.push(decoder());
}
if (sink === 0) throw new Error("nothing decoded");
const value = median(ours);
const baselineValue = median(base);
emit({
  bench: "ndjson.decode_mb_per_s",
  value,
  unit: "MB/s",
  baseline: "JSON.parse over pre-split lines",
  baseline_value: baselineValue,
  ratio: value / baselineValue,
  goal: "ratio>=0.7",
  pass: value / baselineValue >= 0.7,
});
