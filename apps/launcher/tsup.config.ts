import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";
import { library } from "../../tsup.config.base.ts";

// The command: bundled (dependencies included, except srv: spawned, never linked) and split, so
// that each verb loads only its own code.
export default defineConfig({
  ...library,
  entry: ["src/bin.ts", "src/cli.ts"],
  splitting: true,
  dts: false,
  define: {
    __LAUNCHER_VERSION__: JSON.stringify(
      JSON.parse(readFileSync(new URL("package.json", import.meta.url), "utf8")).version,
    ),
  },
  noExternal: [/^(?!@agentmux\/srv)/],
  external: ["@agentmux/srv"],
});
