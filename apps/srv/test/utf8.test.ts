// Where transcript pages may end: never inside a UTF-8 sequence.
import { describe, expect, it } from "vitest";
import { utf8Boundary, utf8CompleteEnd } from "../src/agents/transcript.js";

describe("UTF-8 page ends", () => {
  const text = "a é € 𝄞";
  const buf = Buffer.from(text);

  it("a transcript cut anywhere ends at its last complete character", () => {
    for (let n = 0; n <= buf.length; n++) {
      const part = buf.subarray(0, n);
      const end = utf8CompleteEnd(part);
      expect(end).toBeLessThanOrEqual(n);
      expect(n - end).toBeLessThan(4);
      // What is kept decodes without a replacement character, and is a prefix of the text.
      const kept = part.toString("utf8", 0, end);
      expect(kept).not.toContain("\uFFFD");
      expect(text.startsWith(kept)).toBe(true);
    }
    expect(utf8CompleteEnd(buf)).toBe(buf.length);
  });

  it("a read cut inside a sequence ends before it", () => {
    for (let n = 1; n < buf.length; n++) {
      const end = utf8Boundary(buf, n);
      expect(buf.toString("utf8", 0, end)).not.toContain("\uFFFD");
      expect(n - end).toBeLessThan(4);
    }
  });
});
