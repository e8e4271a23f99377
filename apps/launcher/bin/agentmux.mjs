#!/usr/bin/env node
// The `agentmux` command. A file that exists before any build, so that package managers link it
// at install time (in a fresh checkout, too); the program itself is the build in ../dist.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const program = new URL("../dist/bin.js", import.meta.url);
if (!existsSync(fileURLToPath(program))) {
  process.stderr.write(
    "agentmux: not built yet; in a checkout, run ./agentmuxw start (or ./agentmuxw pnpm -r build)\n",
  );
  process.exit(1);
}
await import(program.href);
