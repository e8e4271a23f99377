import { readFileSync } from "node:fs";
import { defineConfig, type Options } from "tsup";
import { library } from "../../tsup.config.base.ts";

// The version comes from package.json at build time, so a changeset bump reaches ESTART,
// `registered`, the version header and the socket-path hash together.
const define = {
  __BUILD_TIME__: JSON.stringify(new Date().toISOString()),
  __SRV_VERSION__: JSON.stringify(JSON.parse(readFileSync(new URL("package.json", import.meta.url), "utf8")).version),
};

// An executable: one bundle with its JavaScript dependencies, so a start loads
// one file instead of hundreds (kysely alone is ~400 modules). Native and
// optional modules stay external, and so does the dashboard (it is found through its package,
// so its files are where that package is installed).
const executable: Options = {
  ...library,
  dts: false,
  clean: false,
  define,
  noExternal: [/^(?!(better-sqlite3|pino-pretty|bufferutil|utf-8-validate|@agentmux\/web)$)/],
  external: ["better-sqlite3", "pino-pretty", "bufferutil", "utf-8-validate", "@agentmux/web"],
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
};

export default defineConfig([
  // The library entry, for embedding: dependencies stay external.
  { ...library, define },
  { ...executable, entry: ["src/bin.ts", "src/main.ts"] },
  // The MCP server srv gives each agent (run by path: `node dist/mcp-main.js …`), bundled on
  // its own: one is started per agent, and it should not load srv's store and transports.
  { ...executable, entry: ["src/mcp-main.ts"] },
]);
