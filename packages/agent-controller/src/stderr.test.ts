import { describe, expect, it } from "vitest";
import { LineRateLimit, StderrTail } from "./stderr.js";

describe("StderrTail", () => {
  const tail = (tailLines = 3, lineChars = 8) => new StderrTail({ tailLines, lineChars });

  it("splits across chunks, drops \\r and blank lines, keeps the last lines, oldest first", () => {
    const t = tail();
    const seen: string[] = [];
    const on = (l: string) => seen.push(l);
    t.push("one\r\ntw", on);
    t.push("o\n\n  \nthree\nfour\nfi", on);
    expect(seen).toEqual(["one", "two", "three", "four"]);
    expect(t.lines).toEqual(["two", "three", "four"]);
    t.end(on);
    expect(t.lines).toEqual(["three", "four", "fi"]);
  });

  it("clips a long line and marks it, in one chunk or many", () => {
    const t = tail();
    const seen: string[] = [];
    t.push("0123456789abc\n0123", (l) => seen.push(l));
    t.push("4567", (l) => seen.push(l));
    t.push("89\nend\n", (l) => seen.push(l));
    expect(seen).toEqual(["01234567…", "01234567…", "end"]);
  });

  it("holds at most lineChars of a line that never ends, however much of it arrives", () => {
    const t = tail(20, 500);
    const chunk = "z".repeat(64 * 1024);
    for (let i = 0; i < 160; i++) {
      t.push(chunk, () => {});
      expect(t.pendingChars).toBeLessThanOrEqual(500);
    }
    const seen: string[] = [];
    t.end((l) => seen.push(l));
    expect(seen).toEqual([`${"z".repeat(500)}…`]);
    expect(t.pendingChars).toBe(0);
  });
});

describe("LineRateLimit", () => {
  it("passes the limit per window, then reports the rest as one line when the next window starts", () => {
    let now = 0;
    const out: string[] = [];
    const limit = new LineRateLimit(
      2,
      () => now,
      (l) => out.push(l),
    );
    for (const l of ["a", "b", "c", "d"]) limit.offer(l);
    now = 999;
    limit.offer("e");
    expect(out).toEqual(["a", "b"]);
    now = 1000;
    limit.offer("f");
    limit.offer("g");
    limit.offer("h");
    expect(out).toEqual(["a", "b", "… 3 stderr lines suppressed", "f", "g"]);
    limit.flush();
    expect(out.at(-1)).toBe("… 1 stderr line suppressed");
    limit.flush();
    expect(out).toHaveLength(6);
  });

  it("a clock that goes backwards starts a new window instead of muting for good", () => {
    let now = 10_000;
    const out: string[] = [];
    const limit = new LineRateLimit(
      1,
      () => now,
      (l) => out.push(l),
    );
    limit.offer("a");
    limit.offer("b");
    now = 5_000;
    limit.offer("c");
    expect(out).toEqual(["a", "… 1 stderr line suppressed", "c"]);
  });
});
