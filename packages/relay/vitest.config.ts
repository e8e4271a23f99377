import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
    // These tests start real processes; a loaded machine must not turn slowness into failures.
    testTimeout: 30_000,
  },
});
