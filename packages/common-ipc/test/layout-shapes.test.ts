import { describe, expect, it } from "vitest";
import { decodeCommand, decodeEvent, serialize } from "../src/index.js";

/** The layout vocabulary's wire details (srv-protocol §1.1–§1.3) that the per-variant examples do not pin. */
describe("layout wire shapes", () => {
  it("reads an absent flexDirection as row and an absent size as 1, like the original", () => {
    const r = decodeCommand('{"cmd":"layout_set_tree","tab_id":"t","new_tree":{"id":"n","data":{"blockId":"b"}}}');
    expect(r.ok && r.value.cmd === "layout_set_tree" && r.value.new_tree).toEqual({
      id: "n",
      flexDirection: "row",
      size: 1,
      data: { blockId: "b" },
    });
  });

  it("keeps unknown keys at every depth: on nodes, nested children and leaf data", () => {
    const tree =
      '{"id":"r","flexDirection":"row","size":1,"children":[{"id":"a","flexDirection":"column","size":33.5,"data":{"blockId":"b1","blockStack":["b1","b2"],"activeBlockId":"b1"},"minimizedSize":40,"minimizedLockedSize":2},{"id":"g","flexDirection":"column","size":66.5,"children":[{"id":"c","flexDirection":"row","size":1,"data":{"blockId":"b3"}}],"_slipAnchor":true}],"custom":{"deep":[1,{"x":null}]}}';
    const wire = `{"event":"layout_tree_replaced","tab_id":"t","new_tree":${tree},"slices":null,"correlation_id":"c","version":3}`;
    const r = decodeEvent(wire);
    expect(r.ok).toBe(true);
    if (r.ok) expect(serialize(r.value)).toBe(wire);
  });

  it("writes whole-number sizes as integers", () => {
    const r = decodeCommand(
      '{"cmd":"layout_resize_nodes","tab_id":"t","ops":[{"node_id":"a","size":40.0},{"node_id":"b","size":60.25}]}',
    );
    expect(r.ok && serialize(r.value)).toBe(
      '{"cmd":"layout_resize_nodes","tab_id":"t","ops":[{"node_id":"a","size":40},{"node_id":"b","size":60.25}],"correlation_id":""}',
    );
  });

  it("always writes correlation_id as a string (the original's type), reading an absent one as empty", () => {
    const r = decodeCommand('{"cmd":"layout_clear","tab_id":"t"}');
    expect(r.ok && serialize(r.value)).toBe('{"cmd":"layout_clear","tab_id":"t","correlation_id":""}');
    const e = decodeEvent('{"event":"layout_cleared","tab_id":"t","version":1}');
    expect(e.ok && serialize(e.value)).toBe('{"event":"layout_cleared","tab_id":"t","correlation_id":"","version":1}');
    expect(decodeCommand('{"cmd":"layout_clear","tab_id":"t","correlation_id":7}').ok).toBe(false);
  });

  it("does not put correlation_id on set_focused_node / set_magnified_node or their events", () => {
    expect(decodeCommand('{"cmd":"set_focused_node","tab_id":"t","node_id":"n","correlation_id":"c"}').ok).toBe(false);
    expect(
      decodeEvent('{"event":"magnified_node_changed","tab_id":"t","node_id":"","correlation_id":"c","version":1}').ok,
    ).toBe(false);
  });

  it("accepts null leaforder / pending_backend_actions in slices (REPLACE: null clears)", () => {
    const wire =
      '{"cmd":"layout_set_tree","tab_id":"t","new_tree":null,"slices":{"leaforder":null,"focused_node_id":"","pending_backend_actions":null},"correlation_id":"c"}';
    const r = decodeCommand(wire);
    expect(r.ok && serialize(r.value)).toBe(wire);
    expect(decodeCommand(wire.replace('"leaforder":null', '"leaforder":{}')).ok).toBe(false);
  });

  it("refuses a resize outside [0, 100] and an empty backend action list", () => {
    expect(decodeCommand('{"cmd":"layout_resize_nodes","tab_id":"t","ops":[{"node_id":"a","size":101}]}').ok).toBe(
      false,
    );
    expect(decodeCommand('{"cmd":"layout_resize_nodes","tab_id":"t","ops":[{"node_id":"a","size":-1}]}').ok).toBe(
      false,
    );
    expect(decodeCommand('{"cmd":"layout_queue_backend_actions","tab_id":"t","actions":[]}').ok).toBe(false);
  });
});
