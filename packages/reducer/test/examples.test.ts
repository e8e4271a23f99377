import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("the README example (examples/quickstart.mjs) runs against the built package", () => {
  const script = fileURLToPath(new URL("../examples/quickstart.mjs", import.meta.url));
  const out = execFileSync(process.execPath, [script], { encoding: "utf8" });
  const kinds = [...out.matchAll(/^v(\d+) (\w+)/gm)].map((m) => `${m[1]}:${m[2]}`);
  expect(kinds).toEqual([
    "1:process_spawned",
    "2:lifecycle_phase_changed",
    "3:registered",
    "4:workspace_created",
    "5:tab_created",
    "6:active_tab_changed",
    "7:block_created",
    "8:error",
  ]);
  expect(out).toContain("cannot delete the last tab");
  expect(out).toContain("replay since v3: workspace_created, tab_created, active_tab_changed, block_created");
  expect(out).toContain("invariant violations: 0");
});
