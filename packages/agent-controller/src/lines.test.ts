import { describe, expect, it } from "vitest";
import { LineSplitter, TypeSkipper } from "./lines.js";

const b = (s: string) => Buffer.from(s);

describe("LineSplitter", () => {
  it("splits across chunks, keeps every byte, and cuts over-long lines without calling them whole", () => {
    const lines: [string, boolean][] = [];
    const split = new LineSplitter(8);
    const emit = (line: Buffer, whole: boolean) => lines.push([line.toString(), whole]);
    split.push(b('{"a":1}\n{"b"'), emit);
    split.push(b(":2}\n0123456789"), emit);
    split.push(b("abc\nend"), emit);
    split.end(emit);
    expect(lines).toEqual([
      ['{"a":1}\n', true],
      ['{"b":2}\n', true],
      ["0123456789", false],
      ["abc\n", false],
      ["end", true],
    ]);
  });
});

describe("TypeSkipper", () => {
  const skipper = () => new TypeSkipper(new Set(["result", "system"]));

  it("skips lines of types nobody reads, again and again", () => {
    const s = skipper();
    for (let i = 0; i < 3; i++) {
      expect(s.skips(b(`{"type":"assistant","n":${i}}\n`))).toBe(true);
      expect(s.skips(b('{"type":"stream_event"}\n'))).toBe(true);
    }
  });

  it("never skips a type that is read, including after a similar type was skipped", () => {
    const s = skipper();
    expect(s.skips(b('{"type":"resul"}\n'))).toBe(true);
    expect(s.skips(b('{"type":"result","session_id":"x"}\n'))).toBe(false);
    expect(s.skips(b('{"type":"results"}\n'))).toBe(true);
    expect(s.skips(b('{"type":"result"}\n'))).toBe(false);
    expect(s.skips(b('{"type":"system","subtype":"init"}\n'))).toBe(false);
  });

  it("leaves to the parser every line it cannot read cheaply", () => {
    const s = skipper();
    for (const line of [
      ' {"type":"assistant"}\n', // not at the start
      '{"session_id":"x","type":"assistant"}\n', // type not first
      '{"type": "assistant"}\n', // spaced
      '{"type":"assi\\u0073tant"}\n', // escaped
      '{"type":"résultat"}\n', // not ASCII
      `{"type":"${"x".repeat(100)}"}\n`, // too long to be a type
      '{"type":"unterminated\n',
      "plain text\n",
      "",
    ])
      expect(s.skips(b(line)), line).toBe(false);
  });
});
