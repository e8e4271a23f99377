import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("the README example (examples/tear-off.mjs) runs against the built package", () => {
  const script = fileURLToPath(new URL("../examples/tear-off.mjs", import.meta.url));
  const out = execFileSync(process.execPath, [script], { encoding: "utf8" });
  expect(out).toContain("recovered: 0");
  expect(out).toContain("saga 1 completed workspaces: 2");
  expect(out).toContain("saga 2 compensated - move_block: block not found: no-such-block workspaces: 2");
  expect(out).toMatch(/step 3 delete_tab: compensated\n\s+step 4 delete_workspace: compensated/);
});
