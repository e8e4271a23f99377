#!/usr/bin/env node
// The MCP server srv gives each agent: `node dist/mcp-main.js --socket <relay.sock> --bundle <name>
// --session <id>` (see mcp/main.ts). One is started per agent, so V8's compile cache is turned on
// before the bundled program is loaded: starts after the first skip most of the compiling.
import module from "node:module";

module.enableCompileCache?.();
await import("./mcp/main.js");
