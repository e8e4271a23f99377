import { defineConfig } from "tsup";
import { library } from "../../tsup.config.base.ts";

// Two entries: the package (Node) and `./transcript`, the browser-safe transcript model.
export default defineConfig({
  ...library,
  entry: { index: "src/index.ts", transcript: "src/transcript/index.ts" },
});
