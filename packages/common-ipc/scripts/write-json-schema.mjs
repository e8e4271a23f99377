// Writes schema/*.schema.json from the built package (run `pnpm build` first).
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { jsonSchemaFiles } from "../dist/index.js";

const dir = fileURLToPath(new URL("../schema/", import.meta.url));
for (const [name, text] of Object.entries(jsonSchemaFiles())) {
  writeFileSync(dir + name, text);
  console.log(`wrote schema/${name}`);
}
