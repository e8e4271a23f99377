import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Address,
  boundaryFor,
  displayNameOf,
  ENVELOPE_REJECTIONS,
  type EnvelopeRejection,
  isRelayError,
  parseEnvelope,
  RelayError,
  renderEnvelope,
  renderPerTarget,
  sanitizeForTerminal,
} from "../src/index.js";

const ID = "0b6c2f5e-4d1a-4c8e-9f3b-2a7d5e6f8a90";
const B = `agentmux-${ID.replaceAll("-", "")}`;
const DATE = new Date("2025-03-04T05:06:07.089Z");

function sample(): string {
  return renderEnvelope({
    messageId: ID,
    date: DATE,
    from: { session: "alice", display: "Alice" },
    to: [{ session: "bob" }],
    cc: [{ session: "carol", display: "Carol" }],
    body: "hello\nworld",
  });
}

/** The sample envelope with line `index` replaced by `lines` (none: removed). */
function edit(index: number, ...lines: string[]): string {
  const all = sample().split("\n");
  all.splice(index, 1, ...lines);
  return all.join("\n");
}

function rejection(text: string): { reason: unknown; message: string } {
  try {
    parseEnvelope(text);
  } catch (err) {
    if (!isRelayError(err, "validation_invalid_arguments")) throw err;
    return { reason: err.details?.reason, message: err.message };
  }
  throw new Error("parseEnvelope accepted the text");
}

describe("20. envelope: rendering (relay.md §3.4)", () => {
  it("20. renders exactly the wire skeleton, boundary derived from the Message-Id", () => {
    expect(sample()).toBe(
      [
        `--${B}`,
        `Message-Id: ${ID}`,
        "Date: 2025-03-04T05:06:07.089Z",
        "From: Alice <session:alice>",
        "To: bob <session:bob>",
        "Cc: Carol <session:carol>",
        "",
        `--${B}`,
        "Content-Type: text/plain; charset=utf-8",
        "",
        "hello",
        "world",
        `--${B}--`,
      ].join("\n"),
    );
    expect(boundaryFor(ID)).toBe(B);
  });

  it("20. has leading and closing markers, no multipart Content-Type and no Content-Transfer-Encoding", () => {
    const text = sample();
    expect(text.startsWith(`--${B}\n`)).toBe(true);
    expect(text.endsWith(`\n--${B}--`)).toBe(true);
    expect(text).not.toMatch(/multipart/i);
    expect(text).not.toMatch(/Content-Transfer-Encoding/i);
    expect(text.match(/^Content-Type:/gm)).toHaveLength(1);
  });

  it("20. omits Cc and Subject when absent and writes Subject when given", () => {
    const bare = renderEnvelope({
      messageId: ID,
      date: DATE,
      from: { session: "a" },
      to: [{ session: "b" }],
      body: "",
    });
    expect(bare).not.toMatch(/^(Cc|Subject):/m);
    const withSubject = renderEnvelope({
      messageId: ID,
      date: DATE,
      from: { session: "a" },
      to: [{ session: "b" }],
      subject: "re:\r\nInjected: header",
      body: "",
    });
    // A subject cannot start a header line of its own.
    expect(withSubject).toContain("Subject: re: Injected: header\n");
    expect(parseEnvelope(withSubject).subject).toBe("re: Injected: header");
  });

  it("20. display names default to the session id; quotes become apostrophes and nothing breaks the address", () => {
    expect(displayNameOf({ session: "bob" })).toBe("bob");
    expect(displayNameOf({ session: "bob", display: "  " })).toBe("bob");
    expect(displayNameOf({ session: "bob", display: 'Bob "the builder"' })).toBe("Bob 'the builder'");
    expect(displayNameOf({ session: "bob", display: "Eve <session:root>\nTo: x" })).toBe("Eve (session:root) To: x");
    const text = renderEnvelope({
      messageId: ID,
      date: DATE,
      from: { session: "bob", display: 'Smith, "Bob"' },
      to: [{ session: "eve", display: "Eve <session:root>" }],
      body: "",
    });
    expect(text).toContain("From: Smith, 'Bob' <session:bob>\n");
    const parsed = parseEnvelope(text);
    expect(parsed.from).toEqual({ session: "bob", display: "Smith, 'Bob'" });
    expect(parsed.to).toEqual([{ session: "eve", display: "Eve (session:root)" }]);
  });

  it("20. each target gets its own message_id and Cc lists the other targets", () => {
    const ids = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"];
    const out = renderPerTarget({
      date: DATE,
      from: { session: "alice" },
      targets: [{ session: "bob" }, { session: "carol", display: "Carol" }],
      body: "hi",
      newMessageId: () => ids.shift() ?? randomUUID(),
    });
    expect(out.map((e) => e.messageId)).toEqual([
      "11111111-1111-4111-8111-111111111111",
      "22222222-2222-4222-8222-222222222222",
    ]);
    const [toBob, toCarol] = out.map((e) => parseEnvelope(e.envelope));
    expect(toBob?.messageId).toBe(out[0]?.messageId);
    expect(toBob?.to).toEqual([{ session: "bob", display: "bob" }]);
    expect(toBob?.cc).toEqual([{ session: "carol", display: "Carol" }]);
    expect(toCarol?.to).toEqual([{ session: "carol", display: "Carol" }]);
    expect(toCarol?.cc).toEqual([{ session: "bob", display: "bob" }]);
    expect(toBob?.boundary).not.toBe(toCarol?.boundary);
  });

  it("20. a single target has no Cc", () => {
    const [only] = renderPerTarget({
      date: DATE,
      from: { session: "a" },
      targets: [{ session: "b" }],
      body: "x",
      newMessageId: randomUUID,
    });
    expect(only?.envelope).not.toMatch(/^Cc:/m);
  });

  it.each([
    ["invalid_message_id", { messageId: "not-a-uuid" }],
    ["invalid_date", { date: new Date(Number.NaN) }],
    ["invalid_date", { date: new Date("+010000-01-01T00:00:00Z") }],
    ["empty_to", { to: [] }],
    ["invalid_address", { to: [{ session: "b c" }] }],
    ["invalid_address", { from: { session: "x>y" } }],
    ["body_contains_boundary", { body: `quote:\n--${B}\nmore` }],
    ["body_contains_boundary", { body: `--${B}--` }],
  ] as const)("20. rendering refuses %s", (reason, override) => {
    const input = { messageId: ID, date: DATE, from: { session: "a" }, to: [{ session: "b" }], body: "x", ...override };
    expect(() => renderEnvelope(input)).toThrowError(
      expect.objectContaining({ code: "validation_invalid_arguments", details: { reason } }),
    );
  });
});

describe("20. envelope: parsing rejects every malformed variant of §3.4", () => {
  const pathPointerPart = [`--${B}`, "Content-Type: application/vnd.agentmux.path-pointer+json", "", '{"path":"/x"}'];
  const cases: Record<EnvelopeRejection, () => string> = {
    missing_leading_marker: () => edit(0),
    closing_leading_marker: () => edit(0, `--${B}--`),
    malformed_header: () => edit(2, "this is not a header"),
    empty_header: () => edit(5, "Cc:"),
    duplicate_header: () => edit(2, "Date: 2025-03-04T05:06:07.089Z", "Date: 2025-03-04T05:06:07.089Z"),
    unterminated_headers: () => sample().split("\n").slice(0, 6).join("\n"),
    missing_message_id: () => edit(1),
    invalid_message_id: () => edit(1, "Message-Id: 12345"),
    missing_date: () => edit(2),
    invalid_date: () => edit(2, "Date: yesterday"),
    missing_from: () => edit(3),
    missing_to: () => edit(4),
    empty_to: () => edit(4, "To: "),
    invalid_address: () => edit(4, "To: bob"),
    boundary_mismatch: () => sample().replaceAll(B, "agentmux-deadbeef"),
    missing_body_marker: () => edit(7),
    missing_close_marker: () => edit(12),
    content_after_close_marker: () => `${sample()}\ntrailing`,
    malformed_part: () => edit(9, `--${B}`, "Content-Type: text/plain", ""),
    missing_part_content_type: () => edit(8, "X-Note: nothing"),
    unsupported_part_type: () => edit(8, "Content-Type: text/html; charset=utf-8"),
    unsupported_charset: () => edit(8, "Content-Type: text/plain; charset=latin1"),
    text_part_count: () =>
      edit(12, `--${B}`, "Content-Type: text/plain; charset=utf-8", "", "second text part", `--${B}--`),
  };

  it("20. the table below covers every rejection code", () => {
    expect(Object.keys(cases).sort()).toEqual([...ENVELOPE_REJECTIONS].sort());
  });

  it.each(Object.entries(cases))("20. rejects %s", (reason, make) => {
    expect(rejection(make()).reason).toBe(reason);
  });

  it("20. rejects a From with more than one address, and a To address without <session:…>", () => {
    expect(rejection(edit(3, "From: a <session:a>, b <session:b>")).reason).toBe("invalid_address");
    expect(rejection(edit(4, "To: bob <session:bob>, carol <carol>")).reason).toBe("invalid_address");
    expect(rejection(edit(4, "To: bob <mailto:bob>")).message).toMatch(/without <session:/);
  });

  it("20. rejects an envelope whose only part is a path pointer (zero text parts)", () => {
    const text = [...sample().split("\n").slice(0, 7), ...pathPointerPart, `--${B}--`].join("\n");
    expect(rejection(text).reason).toBe("text_part_count");
  });

  it("20. rejects empty input and a bare -- line as a missing leading marker", () => {
    expect(rejection("").reason).toBe("missing_leading_marker");
    expect(rejection("--\nMessage-Id: x").reason).toBe("missing_leading_marker");
  });

  it("20. ignores path-pointer parts and tolerates one trailing newline", () => {
    const text = edit(7, ...pathPointerPart, `--${B}`);
    expect(parseEnvelope(`${text}\n`).body).toBe("hello\nworld");
  });

  it("20. reads header names case-insensitively and keeps unknown headers out of the way", () => {
    const text = edit(1, `MESSAGE-ID: ${ID}`, "X-Trace: 1");
    expect(parseEnvelope(text).messageId).toBe(ID);
  });

  it("20. errors are RelayErrors with a specific message", () => {
    expect(() => parseEnvelope(edit(4))).toThrow(RelayError);
    expect(rejection(edit(4)).message).toBe("invalid envelope: the envelope has no To header");
  });
});

describe("20. envelope: render and parse round-trip", () => {
  const sessionId = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,30}$/);
  const address: fc.Arbitrary<Address> = fc.record(
    { session: sessionId, display: fc.oneof(fc.string(), fc.constantFrom('Bob "B"', "Smith, Jo", "<x>", "\t é ")) },
    { requiredKeys: ["session"] },
  );
  /** Lines that look like structure: other boundaries, near misses of this one, headers, blank and CR lines. */
  const trickyLine = (boundary: string) =>
    fc.oneof(
      fc.string(),
      fc.uuid().map((u) => `--${boundaryFor(u)}`),
      fc.uuid().map((u) => `--${boundaryFor(u)}--`),
      fc.constantFrom(
        `--${boundary} `,
        ` --${boundary}`,
        `--${boundary}---`,
        `---${boundary}`,
        `--${boundary}--x`,
        `--${boundary.toUpperCase()}`,
        "--agentmux-",
        "--",
        "",
        "\r",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Type: application/vnd.agentmux.path-pointer+json",
        "Message-Id: 00000000-0000-4000-8000-000000000000",
        "To: mallory <session:mallory>",
        "From:",
      ),
    );
  const envelope = fc.uuid().chain((messageId) =>
    fc.record({
      messageId: fc.constant(messageId),
      date: fc.date({
        min: new Date("0000-01-01T00:00:00Z"),
        max: new Date("9999-12-31T23:59:59.999Z"),
        noInvalidDate: true,
      }),
      from: address,
      to: fc.array(address, { minLength: 1, maxLength: 4 }),
      cc: fc.array(address, { maxLength: 3 }),
      subject: fc.option(fc.stringMatching(/^[ -~]*$/), { nil: undefined }),
      body: fc.array(trickyLine(boundaryFor(messageId)), { maxLength: 12 }).map((lines) => lines.join("\n")),
    }),
  );

  it("20. parse(render(x)) gives x back, whatever the body contains", () => {
    fc.assert(
      fc.property(envelope, (input) => {
        const parsed = parseEnvelope(renderEnvelope(input));
        const shown = (a: Address) => ({ session: a.session, display: displayNameOf(a) });
        expect(parsed.messageId).toBe(input.messageId);
        expect(parsed.boundary).toBe(boundaryFor(input.messageId));
        expect(parsed.date.getTime()).toBe(input.date.getTime());
        expect(parsed.from).toEqual(shown(input.from));
        expect(parsed.to).toEqual(input.to.map(shown));
        expect(parsed.cc).toEqual(input.cc.map(shown));
        const subject = input.subject?.trim();
        expect(parsed.subject).toBe(subject === "" ? undefined : subject);
        expect(parsed.body).toBe(input.body);
      }),
      { numRuns: 500 },
    );
  });

  it("20. render(parse(text)) is the text itself for a rendered envelope", () => {
    fc.assert(
      fc.property(envelope, (input) => {
        const text = renderEnvelope(input);
        const parsed = parseEnvelope(text);
        expect(renderEnvelope(parsed)).toBe(text);
      }),
    );
  });
});

describe("sanitizeForTerminal (deliveries into a terminal)", () => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
  const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

  it("strips ANSI/OSC/DCS escape sequences and control characters, keeping newlines and tabs", () => {
    const input = [
      "\u001b[31mred\u001b[0m",
      "\u001b]0;evil title\u0007after-bel",
      "\u001b]52;c;cGFzdGU=\u001b\\after-st",
      "\u001bPq#0;2;0;0;0\u001b\\after-dcs",
      "\u009b2Jc1-csi",
      "bell\u0007back\bspace\u0000nul\u007fdel\u0085nel",
      "esc\u001bcreset\u001b(Bcharset",
      "col\tumn",
    ].join("\n");
    expect(sanitizeForTerminal(input, 10_000)).toBe(
      [
        "red",
        "after-bel",
        "after-st",
        "after-dcs",
        "c1-csi",
        "bellbackspacenuldelnel",
        "escresetcharset",
        "col\tumn",
      ].join("\n"),
    );
  });

  it("turns CRLF into LF and drops a lone CR (it would submit the input early)", () => {
    expect(sanitizeForTerminal("a\r\nb\rc\n", 100)).toBe("a\nbc\n");
  });

  it("keeps printable Unicode untouched", () => {
    const text = "héllo wörld — 日本語 🎉 \u200d";
    expect(sanitizeForTerminal(text, 100)).toBe(text);
  });

  it("caps the size without splitting a character and says how much was cut", () => {
    const text = "é".repeat(100); // 200 bytes
    const out = sanitizeForTerminal(text, 64);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(64);
    expect(out).not.toContain("\uFFFD");
    const match = /^((?:é)+)\n\[… truncated (\d+) bytes\]$/.exec(out);
    expect(match).not.toBeNull();
    expect(Buffer.byteLength(match?.[1] ?? "") + Number(match?.[2])).toBe(200);
  });

  it("refuses a cap too small to hold the marker", () => {
    expect(() => sanitizeForTerminal("x".repeat(100), 5)).toThrow(RangeError);
  });

  it("property: the output is safe, bounded, and an exact prefix plus an honest marker", () => {
    const noisy = fc.array(
      fc.oneof(
        fc.string({ unit: "binary" }),
        fc.constantFrom("\u001b[", "\u001b]", "\u001b", "\u009b", "\u0007", "\r\n", "\r", "\n", "\t", "🎉", "é"),
      ),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(noisy, fc.integer({ min: 40, max: 300 }), (parts, maxBytes) => {
        const input = parts.join("");
        const full = sanitizeForTerminal(input, Number.MAX_SAFE_INTEGER);
        const out = sanitizeForTerminal(input, maxBytes);
        expect(out).not.toMatch(UNSAFE);
        expect(full).not.toMatch(UNSAFE);
        expect(Buffer.byteLength(out)).toBeLessThanOrEqual(maxBytes);
        if (Buffer.byteLength(full) <= maxBytes) {
          expect(out).toBe(full);
          return;
        }
        const match = /\n\[… truncated (\d+) bytes\]$/.exec(out);
        expect(match).not.toBeNull();
        const kept = out.slice(0, out.length - (match?.[0].length ?? 0));
        expect(full.startsWith(kept)).toBe(true);
        expect(Buffer.byteLength(kept) + Number(match?.[1])).toBe(Buffer.byteLength(full));
      }),
      { numRuns: 500 },
    );
  });
});
