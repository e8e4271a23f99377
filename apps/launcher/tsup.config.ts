import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";
import { library } from "../../tsup.config.base.ts";

// The command: one file per entry, dependencies bundled except srv (spawned, never linked).
export default defineConfig({
  ...library,
  entry: ["src/bin.ts"],
  dts: false,
  define: {
    __LAUNCHER_VERSION__: JSON.stringify(
      JSON.parse(readFileSync(new URL("package.json", import.meta.url), "utf8")).version,
    ),
  },
  noExternal: [/^(?!@agentmux\/srv)/],
  external: ["@agentmux/srv"],
});
