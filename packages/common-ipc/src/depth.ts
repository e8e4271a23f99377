/**
 * How deep a frame may nest. The zod schemas for JSON values, meta maps and
 * layout trees are recursive, so a value nested a few thousand levels deep
 * (a 30 KB frame is enough) would overflow the call stack inside validation.
 * Every parse entry point measures the depth first, without recursion, and
 * refuses a frame past the limit with a typed error before zod sees it.
 *
 * Depth counts objects and arrays: a scalar is 0, `{}` and `[]` are 1, and
 * `{"cmd":"create_block","tab_id":"t","meta":{"a":[1]}}` is 3.
 */

/**
 * Deepest nesting a command frame (and an event frame other than
 * `event_list`) may have. A command's `meta` object may nest
 * `MAX_JSON_DEPTH - 1` levels (the command object is the first); a layout
 * tree, which spends two levels per generation (a node and its `children`
 * array), can be 32 generations deep (31 when the deepest node carries
 * `data`). Far above any real frame, far below what overflows the stack.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Deepest nesting of an `event_list` frame: it wraps each event in two more
 * levels (the list and its `events` array), so every event that fits
 * {@link MAX_JSON_DEPTH} on its own still decodes inside a catch-up page.
 */
export const MAX_EVENT_LIST_JSON_DEPTH = MAX_JSON_DEPTH + 2;

/**
 * The nesting depth of a decoded JSON value, or `stopAbove + 1` as soon as
 * it is known to be deeper than `stopAbove` (the rest is not walked).
 *
 * Iterative (an explicit stack), so no input overflows the call stack. Meant
 * for JSON trees such as `JSON.parse` returns: each container is visited
 * once. A cyclic value ends at the cut-off rather than looping.
 */
export function jsonValueDepth(value: unknown, stopAbove: number): number {
  if (typeof value !== "object" || value === null) return 0;
  if (stopAbove < 1) return stopAbove + 1;
  // Parallel stacks of containers and their depths: only containers are pushed, scalars cost nothing.
  const containers: object[] = [value];
  const depths: number[] = [1];
  let max = 1;
  const visit = (child: unknown, depth: number): boolean => {
    if (typeof child !== "object" || child === null) return true;
    if (depth > stopAbove) return false;
    if (depth > max) max = depth;
    containers.push(child);
    depths.push(depth);
    return true;
  };
  for (;;) {
    const container = containers.pop();
    const depth = depths.pop();
    if (container === undefined || depth === undefined) return max;
    if (Array.isArray(container)) {
      for (const child of container) if (!visit(child, depth + 1)) return stopAbove + 1;
    } else {
      // for…in rather than Object.values: no array per object (about 4x faster on object-heavy frames).
      // Parsed JSON objects have no inherited enumerable keys to pick up.
      const record = container as Record<string, unknown>;
      for (const key in record) if (!visit(record[key], depth + 1)) return stopAbove + 1;
    }
  }
}

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }
const OPEN_BRACKET = 0x5b; // [
const CLOSE_BRACKET = 0x5d; // ]

/**
 * The nesting depth of JSON text, or `stopAbove + 1` as soon as it is known
 * to be deeper than `stopAbove`. Equal to {@link jsonValueDepth} of
 * `JSON.parse(text)` for valid JSON; for invalid text the figure means
 * nothing (the parser refuses the text anyway).
 *
 * One pass, no allocation, no recursion: the decode entry points run it
 * before `JSON.parse`, so the parser never builds a value that is too deep
 * (and an engine whose parser recurses cannot overflow on it). Brackets
 * inside strings do not count; strings are skipped with `indexOf`, so long
 * string payloads cost little.
 */
export function jsonTextDepth(text: string, stopAbove: number): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > stopAbove) return stopAbove + 1;
      if (depth > max) max = depth;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      // Unbalanced closers only occur in invalid JSON; clamping keeps them from hiding later nesting.
      if (depth > 0) depth--;
    }
  }
  return max;
}

/** Index of the quote closing the string opened at `open`, or `text.length` when it is never closed. */
function closingQuote(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return text.length;
    // A quote is escaped when an odd number of backslashes precede it (`\\"` ends the string, `\"` does not).
    // Each backslash run is counted once, by the quote right after it, so the scan stays linear.
    let backslashes = 0;
    for (let j = q - 1; j > open && text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return q;
    from = q + 1;
  }
}
