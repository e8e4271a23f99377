#!/usr/bin/env node
// Entry point of agentmux: turn on V8's compile cache before the program is loaded, so that every
// run after the first skips most of the compiling (a CLI verb is mostly start-up).
import module from "node:module";

module.enableCompileCache?.();
await import("./cli.js");
