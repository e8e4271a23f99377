import { defineConfig } from "tsup";
import { library } from "../../tsup.config.base.ts";

// Two entries: the package and `./layout`, the layout algebra and fold alone (no zod at run time).
export default defineConfig({
  ...library,
  entry: { index: "src/index.ts", layout: "src/layout-entry.ts" },
});
