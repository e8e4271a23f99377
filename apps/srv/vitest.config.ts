import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // What the build defines (tsup.config.ts), for unit tests that import src/ directly.
  define: {
    __BUILD_TIME__: JSON.stringify("test"),
    __SRV_VERSION__: JSON.stringify(JSON.parse(readFileSync(new URL("package.json", import.meta.url), "utf8")).version),
  },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
    // These tests start real processes; a loaded machine must not turn slowness into failures.
    testTimeout: 30_000,
  },
});
