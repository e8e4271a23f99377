import type { Meta } from "@agentmux/common-ipc";

/**
 * Merges a meta patch into a meta map, returning a new map. In order:
 * `"<prefix>:*": true` removes every key starting with `<prefix>:`; a `null`
 * value removes its key; any other value overwrites.
 */
export function mergeMeta(current: Readonly<Meta>, patch: Readonly<Meta>): Meta {
  const out: Meta = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (key.endsWith(":*") && value === true) {
      const prefix = key.slice(0, -1);
      for (const k of Object.keys(out)) if (k.startsWith(prefix)) delete out[k];
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.endsWith(":*") && value === true) continue;
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}
