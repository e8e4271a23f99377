// The built page: it shares the transcript model and the layout fold with the rest of the
// project through their browser-safe entries, which must not pull the wire schemas (zod) in.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { distDir } from "../index.js";

describe("the built page", () => {
  it("carries no schema library: the shared model and layout fold come without zod", () => {
    const assets = join(distDir, "assets");
    const scripts = readdirSync(assets).filter((f) => f.endsWith(".js"));
    expect(scripts.length).toBeGreaterThan(0);
    const code = scripts.map((f) => readFileSync(join(assets, f), "utf8")).join("\n");
    expect(code).not.toMatch(/\$ZodType|ZodError/);
    // The reducer's layout algebra is in (one of its refusals), and so is the transcript model.
    expect(code).toContain("layout node not found");
    expect(code).toContain("tool_result");
  });
});
