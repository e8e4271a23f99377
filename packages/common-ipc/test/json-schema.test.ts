import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { jsonSchemaFiles } from "../src/index.js";

describe("committed JSON Schema files", () => {
  for (const [name, text] of Object.entries(jsonSchemaFiles())) {
    it(`schema/${name} is up to date (regenerate with: pnpm --filter @agentmux/common-ipc build && pnpm --filter @agentmux/common-ipc schema)`, () => {
      const committed = readFileSync(new URL(`../schema/${name}`, import.meta.url), "utf8");
      expect(committed === text).toBe(true);
    });
  }

  it("describes every command and event variant", () => {
    const files = jsonSchemaFiles();
    const command = JSON.parse(files["command.schema.json"] as string);
    const event = JSON.parse(files["event.schema.json"] as string);
    expect(command.oneOf.length).toBeGreaterThan(40);
    expect(event.oneOf.length).toBeGreaterThan(40);
    const tags = command.oneOf.map((v: { properties: { cmd: { const: string } } }) => v.properties.cmd.const);
    expect(tags).toContain("agent_send");
    expect(tags).toContain("layout_set_tree");
  });
});
