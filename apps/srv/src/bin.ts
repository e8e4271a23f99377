#!/usr/bin/env node
// Entry point of agentmux-srv: turn on V8's compile cache before the (bundled)
// program is loaded, so that starts after the first skip most of the compiling.
import module from "node:module";

module.enableCompileCache?.();
await import("./main.js");
