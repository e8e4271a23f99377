import { defineConfig } from "tsup";
import { library } from "../../tsup.config.base.ts";

const buildTime = JSON.stringify(new Date().toISOString());

export default defineConfig([
  // The library entry, for embedding: dependencies stay external.
  { ...library, define: { __BUILD_TIME__: buildTime } },
  // The executable: one bundle with its JavaScript dependencies, so a start loads
  // one file instead of hundreds (kysely alone is ~400 modules). Native and
  // optional modules stay external.
  {
    ...library,
    entry: ["src/bin.ts", "src/main.ts"],
    dts: false,
    clean: false,
    define: { __BUILD_TIME__: buildTime },
    noExternal: [/^(?!(better-sqlite3|pino-pretty|bufferutil|utf-8-validate)$)/],
    external: ["better-sqlite3", "pino-pretty", "bufferutil", "utf-8-validate"],
    // CommonJS dependencies inside an ES module bundle expect these.
    banner: {
      js: [
        'import { createRequire as __createRequire } from "node:module";',
        'import { fileURLToPath as __fileURLToPath } from "node:url";',
        'import { dirname as __pathDirname } from "node:path";',
        "const require = __createRequire(import.meta.url);",
        "const __filename = __fileURLToPath(import.meta.url);",
        "const __dirname = __pathDirname(__filename);",
      ].join(" "),
    },
  },
]);
