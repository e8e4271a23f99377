import { describe, expect, it } from "vitest";
import {
  COMMAND_NAMES,
  type Command,
  decodeCommand,
  decodeEvent,
  EVENT_NAMES,
  type Event,
  parseCommand,
  parseEvent,
  serialize,
} from "../src/index.js";
import { COMMAND_EXAMPLES, EVENT_EXAMPLES } from "./wire-examples.js";

function mustCommand(text: string): Command {
  const r = decodeCommand(text);
  if (!r.ok) throw new Error(`expected a valid command, got: ${r.error.message}`);
  return r.value;
}

function mustEvent(text: string): Event {
  const r = decodeEvent(text);
  if (!r.ok) throw new Error(`expected a valid event, got: ${r.error.message}`);
  return r.value;
}

describe("wire examples cover the whole vocabulary", () => {
  it("has one example per command variant", () => {
    expect(Object.keys(COMMAND_EXAMPLES).sort()).toEqual([...COMMAND_NAMES].sort());
  });
  it("has one example per event variant", () => {
    expect(Object.keys(EVENT_EXAMPLES).sort()).toEqual([...EVENT_NAMES].sort());
  });
});

describe("commands round-trip with the exact wire text", () => {
  for (const [name, wire] of Object.entries(COMMAND_EXAMPLES)) {
    it(name, () => {
      const parsed = mustCommand(wire);
      expect(parsed.cmd).toBe(name);
      expect(serialize(parsed)).toBe(wire);
      const again = parseCommand(JSON.parse(serialize(parsed)));
      expect(again).toEqual({ ok: true, value: parsed });
    });
  }
});

describe("events round-trip with the exact wire text", () => {
  for (const [name, wire] of Object.entries(EVENT_EXAMPLES)) {
    it(name, () => {
      const parsed = mustEvent(wire);
      expect(parsed.event).toBe(name);
      expect(serialize(parsed)).toBe(wire);
      const again = parseEvent(JSON.parse(serialize(parsed)));
      expect(again).toEqual({ ok: true, value: parsed });
    });
  }
});

describe("defaults and optional fields", () => {
  it("fills defaulted command fields", () => {
    expect(mustCommand('{"cmd":"delete_tab","workspace_id":"w","tab_id":"t"}')).toEqual({
      cmd: "delete_tab",
      workspace_id: "w",
      tab_id: "t",
      force: false,
    });
    expect(mustCommand('{"cmd":"create_block","tab_id":"t"}')).toEqual({
      cmd: "create_block",
      tab_id: "t",
      meta: null,
    });
    expect(mustCommand('{"cmd":"subscribe_output"}')).toEqual({ cmd: "subscribe_output", block_ids: [] });
  });

  it("reads an absent Option field as null", () => {
    const ev = mustEvent('{"event":"active_tab_changed","workspace_id":"w","version":3}');
    expect(ev).toEqual({ event: "active_tab_changed", workspace_id: "w", tab_id: null, version: 3 });
    const moved = mustEvent(
      '{"event":"tab_moved","tab_id":"t","src_workspace_id":"a","dst_workspace_id":"b","dst_index":0,"new_src_active_tab_id":null,"version":1}',
    );
    expect(moved).toMatchObject({ new_dst_active_tab_id: null });
  });

  it("defaults snapshot lists to empty", () => {
    expect(mustEvent('{"event":"srv_snapshot","lifecycle":"starting","version":1}')).toEqual({
      event: "srv_snapshot",
      lifecycle: "starting",
      workspaces: [],
      tabs: [],
      active_tabs: [],
      blocks: [],
      version: 1,
    });
  });

  it("writes layout node sizes that are whole numbers as integers and keeps unknown node keys", () => {
    const cmd = mustCommand(
      '{"cmd":"layout_set_tree","tab_id":"t","new_tree":{"id":"n","flexDirection":"row","size":2.0,"extra":{"k":[1]}}}',
    );
    expect(serialize(cmd)).toBe(
      '{"cmd":"layout_set_tree","tab_id":"t","new_tree":{"id":"n","flexDirection":"row","size":2,"extra":{"k":[1]}},"slices":null,"correlation_id":""}',
    );
  });

  it("reads an agent fault without stderr (the field is optional) and writes it back without one", () => {
    const wire =
      '{"event":"agent_status","block_id":"b1","status":"done","pid":null,"exit_code":1,"turn_active":false,"session_id":null,"needs_input":false,"usage":null,"requests":[],"fault":{"kind":"auth","fatal":true,"message":"not logged in","resets_at":null},"version":3}';
    const ev = mustEvent(wire);
    expect(ev.event === "agent_status" && ev.fault).toEqual({
      kind: "auth",
      fatal: true,
      message: "not logged in",
      resets_at: null,
    });
    expect(serialize(ev)).toBe(wire);
    const withEmpty = wire.replace('"resets_at":null}', '"resets_at":null,"stderr":[]}');
    expect(serialize(mustEvent(withEmpty))).toBe(withEmpty);
    expect(decodeEvent(wire.replace('"resets_at":null}', '"resets_at":null,"stderr":"oops"}')).ok).toBe(false);
  });

  it("keeps req_id on commands and events", () => {
    expect(mustCommand('{"cmd":"goodbye","req_id":"abc"}')).toEqual({ cmd: "goodbye", req_id: "abc" });
    expect(mustEvent('{"event":"pong","nonce":1,"version":2,"req_id":"abc"}').req_id).toBe("abc");
  });
});
