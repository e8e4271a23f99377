import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeCommand,
  decodeEvent,
  errorEvent,
  ProtocolError,
  parseCommand,
  protocolErrorEvent,
} from "../src/index.js";

function failure(text: string): ProtocolError {
  const r = decodeCommand(text);
  if (r.ok) throw new Error(`expected a parse failure for ${text}`);
  return r.error;
}

describe("bad commands give typed errors", () => {
  it("unknown cmd", () => {
    const err = failure('{"cmd":"banana"}');
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.code).toBe("invalid_command");
    expect(err.message).toBe('parse failed: unknown cmd "banana"');
  });

  it("launcher-only vocabulary is an unknown command to srv", () => {
    expect(failure('{"cmd":"get_snapshot"}').message).toBe('parse failed: unknown cmd "get_snapshot"');
    expect(failure('{"cmd":"report_window_opened","label":"main"}').code).toBe("invalid_command");
  });

  it("missing tag, wrong tag type, non-object JSON", () => {
    expect(failure('{"name":"x"}').message).toBe('parse failed: missing "cmd" tag');
    expect(failure('{"cmd":42}').message).toBe('parse failed: missing "cmd" tag');
    expect(failure("[1,2]").message).toBe("parse failed: expected a JSON object");
    expect(failure("null").message).toBe("parse failed: expected a JSON object");
    expect(failure('"ping"').message).toBe("parse failed: expected a JSON object");
  });

  it("invalid JSON and trailing junk", () => {
    expect(failure("{not json").message).toMatch(/^parse failed: invalid JSON/);
    expect(failure('{"cmd":"goodbye"} trailing').message).toMatch(/^parse failed: invalid JSON/);
    expect(failure("\u0000\u0001\u00ff").message).toMatch(/^parse failed: invalid JSON/);
  });

  it("wrong field types name the field", () => {
    expect(failure('{"cmd":"create_tab","workspace_id":5,"name":""}').message).toMatch(
      /^parse failed: create_tab: workspace_id: /,
    );
    expect(failure('{"cmd":"ping","nonce":-1}').message).toMatch(/nonce/);
    expect(failure('{"cmd":"ping","nonce":1.5}').message).toMatch(/nonce/);
    expect(failure('{"cmd":"register","kind":"robot","pid":1,"version":""}').message).toMatch(/kind/);
    expect(failure('{"cmd":"update_tab_meta","tab_id":"t","meta_patch":[1]}').message).toMatch(/meta_patch/);
  });

  it("extra fields are rejected", () => {
    expect(failure('{"cmd":"ping","nonce":1,"noncee":2}').message).toMatch(/noncee/);
  });

  it("req_id is limited to 64 characters and echoed on the error when valid", () => {
    expect(failure(`{"cmd":"ping","nonce":1,"req_id":"${"x".repeat(65)}"}`).message).toMatch(/req_id/);
    const err = failure('{"cmd":"banana","req_id":"q1"}');
    expect(err.reqId).toBe("q1");
    expect(protocolErrorEvent(err)).toEqual({
      event: "error",
      code: "invalid_command",
      message: 'parse failed: unknown cmd "banana"',
      fatal: false,
      version: 0,
      req_id: "q1",
    });
  });

  it("a long tag is clipped in the message", () => {
    const err = failure(`{"cmd":"${"a".repeat(10_000)}"}`);
    expect(err.message.length).toBeLessThan(200);
  });

  it("errorEvent defaults to a private, non-fatal error", () => {
    expect(errorEvent("not_registered", "register first")).toEqual({
      event: "error",
      code: "not_registered",
      message: "register first",
      fatal: false,
      version: 0,
    });
  });

  it("bad events are typed errors too", () => {
    const r = decodeEvent('{"event":"pong","nonce":1}');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/version/);
  });
});

describe("parsing never throws", () => {
  it("on any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = parseCommand(value);
        if (!r.ok) expect(r.error).toBeInstanceOf(ProtocolError);
      }),
      { numRuns: 2000 },
    );
  });

  it("on objects with a real cmd tag and random fields", () => {
    const tags = fc.constantFrom("register", "ping", "create_tab", "move_tab", "layout_set_tree", "agent_send");
    fc.assert(
      fc.property(tags, fc.dictionary(fc.string(), fc.jsonValue()), (cmd, fields) => {
        const r = parseCommand({ ...fields, cmd });
        if (!r.ok) expect(r.error.code).toBe("invalid_command");
      }),
      { numRuns: 2000 },
    );
  });

  it("on any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const r = decodeCommand(text);
        if (!r.ok) expect(r.error).toBeInstanceOf(ProtocolError);
      }),
      { numRuns: 2000 },
    );
  });
});
