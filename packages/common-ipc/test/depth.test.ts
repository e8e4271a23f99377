import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeCommand,
  decodeEvent,
  jsonTextDepth,
  jsonValueDepth,
  MAX_EVENT_LIST_JSON_DEPTH,
  MAX_JSON_DEPTH,
  type Parsed,
  ProtocolError,
  parseCommand,
  parseEvent,
} from "../src/index.js";
import { COMMAND_EXAMPLES, EVENT_EXAMPLES } from "./wire-examples.js";

/** `levels` nested objects as text: `{"a":{"a":…1…}}`. */
function deepObjectText(levels: number): string {
  return `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
}

/** `levels` nested arrays as text: `[[…1…]]`. */
function deepArrayText(levels: number): string {
  return `${"[".repeat(levels)}1${"]".repeat(levels)}`;
}

function refusal<T>(r: Parsed<T>): ProtocolError {
  if (r.ok) throw new Error("expected a parse failure");
  return r.error;
}

function accepted<T>(r: Parsed<T>): T {
  if (!r.ok) throw new Error(`expected success, got: ${r.error.message}`);
  return r.value;
}

const tooDeep = `parse failed: JSON nested deeper than ${MAX_JSON_DEPTH} levels`;

// A command object is level 1 and its meta level 2, so meta may nest MAX_JSON_DEPTH - 1 objects.
const createBlock = (metaLevels: number) => `{"cmd":"create_block","tab_id":"t1","meta":${deepObjectText(metaLevels)}}`;
const updateBlockMeta = (metaLevels: number) =>
  `{"cmd":"update_block_meta","block_id":"b1","meta_patch":${deepObjectText(metaLevels)}}`;

describe("JSON depth limit (wire rules: frames nest at most MAX_JSON_DEPTH levels)", () => {
  it("the limit is 64 levels", () => {
    expect(MAX_JSON_DEPTH).toBe(64);
    expect(MAX_EVENT_LIST_JSON_DEPTH).toBe(MAX_JSON_DEPTH + 2);
  });

  it("refuses 5,000 levels of meta in create_block and update_block_meta with a typed error", () => {
    for (const text of [createBlock(5000), updateBlockMeta(5000)]) {
      expect(text.length).toBeGreaterThan(25_000);
      const err = refusal(decodeCommand(text));
      expect(err).toBeInstanceOf(ProtocolError);
      expect(err.code).toBe("invalid_command");
      expect(err.message).toBe(tooDeep);
    }
  });

  it("refuses the same value handed to parseCommand (the value walk, not the text scan)", () => {
    for (const text of [createBlock(5000), updateBlockMeta(5000)]) {
      const err = refusal(parseCommand(JSON.parse(text)));
      expect(err.code).toBe("invalid_command");
      expect(err.message).toBe(tooDeep);
    }
  });

  it("accepts a command exactly at the limit and refuses one level more", () => {
    for (const build of [createBlock, updateBlockMeta]) {
      const atLimit = build(MAX_JSON_DEPTH - 1);
      expect(jsonTextDepth(atLimit, Number.POSITIVE_INFINITY)).toBe(MAX_JSON_DEPTH);
      expect(accepted(decodeCommand(atLimit)).cmd).toMatch(/block/);
      expect(accepted(parseCommand(JSON.parse(atLimit))).cmd).toMatch(/block/);

      const over = build(MAX_JSON_DEPTH);
      expect(refusal(decodeCommand(over)).message).toBe(tooDeep);
      expect(refusal(parseCommand(JSON.parse(over))).message).toBe(tooDeep);
    }
  });

  it("counts arrays as levels too", () => {
    // command (1) + actions (2) + nested arrays: the innermost array is at 2 + levels.
    const actions = (levels: number) =>
      `{"cmd":"layout_queue_backend_actions","tab_id":"t1","actions":[${deepArrayText(levels)}]}`;
    expect(accepted(decodeCommand(actions(MAX_JSON_DEPTH - 2))).cmd).toBe("layout_queue_backend_actions");
    expect(refusal(decodeCommand(actions(MAX_JSON_DEPTH - 1))).message).toBe(tooDeep);
    expect(refusal(parseCommand(JSON.parse(actions(MAX_JSON_DEPTH - 1)))).message).toBe(tooDeep);
    expect(refusal(decodeCommand(actions(5000))).message).toBe(tooDeep);
    // A frame that is only brackets (a 1 MiB frame of "[") never reaches the parser.
    expect(refusal(decodeCommand("[".repeat(1024 * 1024))).message).toBe(tooDeep);
  });

  it("a layout tree fits 32 generations deep (31 with block data on the leaf): each spends a node and a children array", () => {
    const tree = (generations: number, leaf: Record<string, unknown>) => {
      let node = leaf;
      for (let g = generations - 1; g >= 1; g--)
        node = { id: `n${g}`, flexDirection: "column", size: 1, children: [node] };
      return { cmd: "layout_set_tree", tab_id: "t1", new_tree: node };
    };
    const bare = tree(32, { id: "leaf", flexDirection: "row", size: 1 });
    const withData = tree(31, { id: "leaf", flexDirection: "row", size: 1, data: { blockId: "b1" } });
    expect(jsonValueDepth(bare, Number.POSITIVE_INFINITY)).toBe(MAX_JSON_DEPTH);
    expect(jsonValueDepth(withData, Number.POSITIVE_INFINITY)).toBe(MAX_JSON_DEPTH - 1);
    for (const cmd of [bare, withData]) {
      expect(accepted(decodeCommand(JSON.stringify(cmd))).cmd).toBe("layout_set_tree");
    }
    expect(
      refusal(decodeCommand(JSON.stringify(tree(33, { id: "leaf", flexDirection: "row", size: 1 })))).message,
    ).toBe(tooDeep);
  });

  it("every wire example is well within the limit", () => {
    for (const text of [...Object.values(COMMAND_EXAMPLES), ...Object.values(EVENT_EXAMPLES)]) {
      expect(jsonTextDepth(text, MAX_JSON_DEPTH)).toBeLessThanOrEqual(8);
    }
  });

  it("brackets inside strings do not count, escaped quotes included", () => {
    const meta = { text: "[".repeat(10_000), quoted: '\\"{{{{\\', tricky: `${"\\".repeat(7)}"[[[` };
    const text = JSON.stringify({ cmd: "create_block", tab_id: "t1", meta });
    expect(jsonTextDepth(text, MAX_JSON_DEPTH)).toBe(2);
    expect(accepted(decodeCommand(text))).toEqual({ cmd: "create_block", tab_id: "t1", meta });
  });

  it("echoes a valid req_id when the value was parsed (parseCommand), not when the text was refused unparsed", () => {
    const value = JSON.parse(createBlock(5000));
    value.req_id = "deep-1";
    expect(refusal(parseCommand(value)).reqId).toBe("deep-1");
    const text = `{"req_id":"deep-2",${createBlock(5000).slice(1)}`;
    expect(refusal(decodeCommand(text)).reqId).toBeUndefined();
  });

  it("a cyclic value handed to parseCommand ends at the limit instead of looping", () => {
    const cycle: unknown[] = [];
    cycle.push(cycle);
    expect(refusal(parseCommand({ cmd: "layout_queue_backend_actions", tab_id: "t", actions: cycle })).message).toBe(
      tooDeep,
    );
  });
});

describe("JSON depth limit on events", () => {
  const blockCreated = (metaLevels: number) =>
    `{"event":"block_created","tab_id":"t1","block_id":"b1","meta":${deepObjectText(metaLevels)},"version":1}`;

  it("an event frame has the command limit", () => {
    expect(accepted(decodeEvent(blockCreated(MAX_JSON_DEPTH - 1))).event).toBe("block_created");
    const err = refusal(decodeEvent(blockCreated(MAX_JSON_DEPTH)));
    expect(err.code).toBe("invalid_command");
    expect(err.message).toBe(tooDeep);
    expect(refusal(parseEvent(JSON.parse(blockCreated(MAX_JSON_DEPTH)))).message).toBe(tooDeep);
  });

  it("an event_list page holds any event that fits on its own, and no deeper", () => {
    const page = (event: string) => `{"event":"event_list","events":[${event}],"version":2}`;
    const fits = page(blockCreated(MAX_JSON_DEPTH - 1));
    expect(jsonTextDepth(fits, Number.POSITIVE_INFINITY)).toBe(MAX_EVENT_LIST_JSON_DEPTH);
    expect(accepted(decodeEvent(fits)).event).toBe("event_list");
    expect(accepted(parseEvent(JSON.parse(fits))).event).toBe("event_list");
    const over = page(blockCreated(MAX_JSON_DEPTH));
    const tooDeepList = `parse failed: JSON nested deeper than ${MAX_EVENT_LIST_JSON_DEPTH} levels`;
    expect(refusal(decodeEvent(over)).message).toBe(tooDeepList);
    expect(refusal(parseEvent(JSON.parse(over))).message).toBe(tooDeepList);
  });

  it("refuses 5,000 levels in an event", () => {
    const err = refusal(decodeEvent(blockCreated(5000)));
    expect(err.code).toBe("invalid_command");
    expect(err.message).toMatch(/^parse failed: JSON nested deeper than \d+ levels$/);
  });
});

describe("the two depth measures agree", () => {
  it("jsonTextDepth(JSON.stringify(v)) = jsonValueDepth(v), with and without a cut-off", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), fc.nat({ max: 14 }), (value, stop) => {
        const text = JSON.stringify(value);
        const full = jsonValueDepth(value, Number.POSITIVE_INFINITY);
        expect(jsonTextDepth(text, Number.POSITIVE_INFINITY)).toBe(full);
        expect(jsonValueDepth(value, stop)).toBe(Math.min(full, stop + 1));
        expect(jsonTextDepth(text, stop)).toBe(Math.min(full, stop + 1));
      }),
      { numRuns: 2000 },
    );
  });

  it("on indented text and strings full of quotes, backslashes and brackets", () => {
    const tricky = fc.string({ unit: fc.constantFrom('"', "\\", "[", "]", "{", "}", "a") });
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        tricky,
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(tricky, tie("node"), { maxKeys: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        const depth = jsonValueDepth(v, Number.POSITIVE_INFINITY);
        expect(jsonTextDepth(JSON.stringify(v), Number.POSITIVE_INFINITY)).toBe(depth);
        expect(jsonTextDepth(JSON.stringify(v, null, 2), Number.POSITIVE_INFINITY)).toBe(depth);
      }),
      { numRuns: 1000 },
    );
  });

  it("scalars are depth 0, empty containers 1", () => {
    for (const scalar of [null, 1, "s", true]) {
      expect(jsonValueDepth(scalar, MAX_JSON_DEPTH)).toBe(0);
      expect(jsonTextDepth(JSON.stringify(scalar), MAX_JSON_DEPTH)).toBe(0);
    }
    expect(jsonValueDepth({}, MAX_JSON_DEPTH)).toBe(1);
    expect(jsonTextDepth("[]", MAX_JSON_DEPTH)).toBe(1);
  });
});
