// The build every library package shares: ESM + .d.ts from src/index.ts.
import { defineConfig, type Options } from "tsup";

export const library: Options = {
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node22",
};

export default defineConfig(library);
