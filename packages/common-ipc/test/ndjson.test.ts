import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DecodedFrame, decodeNdjson, encodeFrame, FrameTooLargeError, NdjsonDecoder } from "../src/index.js";

function frames(out: DecodedFrame[]): string[] {
  return out.map((f) => (f.ok ? f.frame : `!${f.error.code}`));
}

function decodeAll(chunks: (string | Uint8Array)[], max?: number): string[] {
  const d = new NdjsonDecoder(max === undefined ? {} : { maxFrameBytes: max });
  const out: DecodedFrame[] = [];
  for (const c of chunks) d.push(c, out);
  d.end(out);
  return frames(out);
}

/** Splits bytes at the given cut points. */
function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const sorted = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let prev = 0;
  for (const p of sorted) {
    parts.push(bytes.subarray(prev, p));
    prev = p;
  }
  parts.push(bytes.subarray(prev));
  return parts;
}

describe("NdjsonDecoder", () => {
  it("splits lines and joins partial chunks", () => {
    expect(decodeAll(['{"a":1}\n{"b"', ':2}\n{"c":', "3}\n"])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it("accepts \\r\\n, including a \\r at the end of one chunk and \\n at the start of the next", () => {
    expect(decodeAll(['{"a":1}\r\n{"b":2}\r', '\n{"c":3}\r\n'])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it("ignores blank and whitespace-only lines", () => {
    expect(decodeAll(["\n\n  \n\r\n", '{"a":1}\n', "\t\n"])).toEqual(['{"a":1}']);
  });

  it("passes lines of other Unicode spaces on to the parser (they are not JSON whitespace)", () => {
    expect(decodeAll(["\u3000\n", "\u00a0 \n"])).toEqual(["\u3000", "\u00a0 "]);
  });

  it("decodes UTF-8 sequences split across chunks", () => {
    const bytes = Buffer.from('{"s":"héllo wörld 🎉 ✓"}\n', "utf8");
    const out: string[] = [];
    for (let i = 1; i < bytes.length; i++) {
      out.push(...decodeAll([bytes.subarray(0, i), bytes.subarray(i)]));
    }
    expect(new Set(out)).toEqual(new Set(['{"s":"héllo wörld 🎉 ✓"}']));
  });

  it("flushes a last frame without a newline on end()", () => {
    expect(decodeAll(['{"a":1}\n{"b":2}'])).toEqual(['{"a":1}', '{"b":2}']);
  });

  it("accepts a frame of exactly the cap, with \\n or \\r\\n, and rejects one byte more", () => {
    const max = 16;
    const exact = "x".repeat(max);
    expect(decodeAll([`${exact}\n`], max)).toEqual([exact]);
    expect(decodeAll([`${exact}\r`, "\n"], max)).toEqual([exact]);
    expect(decodeAll([`${exact}x\n`], max)).toEqual(["!frame_too_large"]);
    expect(decodeAll([exact, "x", "\n"], max)).toEqual(["!frame_too_large"]);
  });

  it("reports an oversized frame once and resynchronises at the next newline", () => {
    const big = "y".repeat(100);
    const got = decodeAll(['{"a":1}\n', big.slice(0, 40), big.slice(40), `${big}\n{"b":2}\n`], 32);
    expect(got).toEqual(['{"a":1}', "!frame_too_large", '{"b":2}']);
  });

  it("drops an oversized unterminated frame at end()", () => {
    expect(decodeAll(["z".repeat(50)], 10)).toEqual(["!frame_too_large"]);
  });

  it("gives a typed error carrying the limit", () => {
    const out = new NdjsonDecoder({ maxFrameBytes: 4 }).push("123456\n");
    const first = out[0];
    expect(first?.ok).toBe(false);
    if (first && !first.ok) {
      expect(first.error).toBeInstanceOf(FrameTooLargeError);
      expect(first.error.code).toBe("frame_too_large");
      expect(first.error.maxFrameBytes).toBe(4);
    }
  });

  it("rejects a nonsensical cap", () => {
    expect(() => new NdjsonDecoder({ maxFrameBytes: 0 })).toThrow(RangeError);
  });

  it("decodes an async stream", async () => {
    async function* source() {
      yield '{"a":1}\n{"b"';
      yield Buffer.from(":2}\n");
    }
    const got: string[] = [];
    for await (const f of decodeNdjson(source())) got.push(f.ok ? f.frame : "!");
    expect(got).toEqual(['{"a":1}', '{"b":2}']);
  });

  it("encodes one frame per line", () => {
    expect(encodeFrame({ cmd: "ping", nonce: 1, text: "a\nb" })).toBe('{"cmd":"ping","nonce":1,"text":"a\\nb"}\n');
  });
});

describe("NdjsonDecoder properties", () => {
  const jsonFrame = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v));
  const lineEnd = fc.constantFrom("\n", "\r\n");

  it("any chunking of a byte stream decodes to the same frames as the whole stream", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(jsonFrame, lineEnd, fc.boolean()), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (lines, points) => {
          const text = lines.map(([f, end, blankAfter]) => f + end + (blankAfter ? end : "")).join("");
          const bytes = Buffer.from(text, "utf8");
          const whole = decodeAll([bytes]);
          expect(whole).toEqual(lines.map(([f]) => f));
          expect(decodeAll(cut(bytes, points))).toEqual(whole);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("same frames and errors under any chunking when some frames exceed the cap", () => {
    const max = 64;
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: "grapheme", maxLength: 120 }).map((s) => s.replace(/[\r\n]/g, "_")),
          { maxLength: 20 },
        ),
        fc.array(fc.nat(), { maxLength: 30 }),
        (lines, points) => {
          const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(""), "utf8");
          const expected = lines
            .filter((l) => !/^[ \t\r]*$/.test(l) || Buffer.byteLength(l) > max)
            .map((l) => (Buffer.byteLength(l) > max ? "!frame_too_large" : l));
          expect(decodeAll([bytes], max)).toEqual(expected);
          expect(decodeAll(cut(bytes, points), max)).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("never buffers more than the cap (+1 for a pending \\r), however large the frames", () => {
    const max = 1024;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 5000 }), fc.boolean()), { maxLength: 40 }), (chunks) => {
        const d = new NdjsonDecoder({ maxFrameBytes: max });
        for (const [size, newline] of chunks) {
          d.push("a".repeat(size) + (newline ? "\n" : ""));
          expect(d.bufferedBytes).toBeLessThanOrEqual(max + 1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("holds a 64 MiB frame streamed in 64 KiB chunks to the cap", () => {
    const d = new NdjsonDecoder();
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let peak = 0;
    let errors = 0;
    for (let i = 0; i < 1024; i++) {
      errors += d.push(chunk).length;
      peak = Math.max(peak, d.bufferedBytes);
    }
    const out = d.push('\n{"ok":true}\n');
    expect(errors).toBe(1);
    expect(peak).toBeLessThanOrEqual(d.maxFrameBytes + 1);
    expect(frames(out)).toEqual(['{"ok":true}']);
  });
});
