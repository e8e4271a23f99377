import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("the README example (examples/quickstart.mjs) runs against the built package", () => {
  const script = fileURLToPath(new URL("../examples/quickstart.mjs", import.meta.url));
  const out = execFileSync(process.execPath, [script], { encoding: "utf8" });
  expect(out).toContain("pending migrations: 6");
  expect(out).toContain('transcript line at offset 0 : {"type":"assistant"}');
  expect(out).toContain("logged: workspace_created, tab_created, active_tab_changed, block_created");
  expect(out).toContain('block meta: {"view":"agent","agent:name":"alice"}');
  expect(out).toContain("rebuilt blocks: 1 version: 4");
});
