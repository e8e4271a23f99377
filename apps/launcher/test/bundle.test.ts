// What a verb loads from the bundle (dist/). A verb's start is mostly loading, so what it loads
// is checked here; how long it takes is measured in bench/launcher.bench.ts, never here.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "@agentmux/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentmux } from "./helpers.js";

const BIN = join(import.meta.dirname, "..", "dist", "bin.js");

/**
 * What a run of `agentmux <args>` loads through the module loader: the URLs, and the source files
 * bundled into the files among them (esbuild heads each one's code with a `// path` comment).
 */
function loads(args: string[]): { urls: string[]; sources: string[] } {
  const hook = join(tempDir(), "hook.mjs");
  writeFileSync(
    hook,
    `import { registerHooks } from "node:module";
import { writeSync } from "node:fs";
registerHooks({ load(url, context, next) { writeSync(2, "LOADED " + url + "\\n"); return next(url, context); } });
`,
  );
  const r = spawnSync(process.execPath, ["--import", hook, BIN, "--data-dir", dataDir, ...args], {
    encoding: "utf8",
    env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir },
  });
  expect(r.status, r.stderr).toBe(0);
  const urls = [...r.stderr.matchAll(/^LOADED (.*)$/gm)].map((m) => m[1] as string);
  const sources = urls
    .filter((u) => u.startsWith("file:"))
    .flatMap((u) => [...readFileSync(fileURLToPath(u), "utf8").matchAll(/^\/\/ (\S+\.[cm]?[jt]s)$/gm)])
    .map((m) => m[1] as string);
  return { urls, sources };
}

const zod = (sources: string[]) => sources.filter((s) => s.includes("/zod/"));

let dataDir: string;
let runtimeDir: string;

beforeAll(async () => {
  dataDir = join(tempDir(), "data");
  runtimeDir = tempDir();
  const started = agentmux(["start", "--detach"], { dataDir, env: { XDG_RUNTIME_DIR: runtimeDir } });
  expect(await started.exit).toBe(0);
}, 60_000);

afterAll(async () => {
  await agentmux(["stop"], { dataDir, env: { XDG_RUNTIME_DIR: runtimeDir } }).exit;
});

describe("what a verb loads", () => {
  it("--help: commander and the launcher's own code only (no zod), no built-in through an ESM facade", () => {
    const { urls, sources } = loads(["--help"]);
    expect(sources).toContain("src/cli.ts");
    expect(zod(sources)).toEqual([]);
    expect(urls.filter((u) => u.startsWith("node:"))).toEqual([]);
  });

  it("agent ls: zod/mini and common-ipc, without classic zod, zod's locales but English, or the agent controller", () => {
    const { urls, sources } = loads(["agent", "ls"]);
    expect(sources).toContain("src/client.ts");
    expect(sources.some((s) => s.endsWith("/zod/v4/mini/schemas.js"))).toBe(true);
    expect(sources.some((s) => s.endsWith("/packages/common-ipc/dist/index.js"))).toBe(true);
    expect(zod(sources).filter((s) => s.includes("/classic/"))).toEqual([]);
    expect(zod(sources).filter((s) => s.includes("/locales/"))).toEqual([
      expect.stringMatching(/\/zod\/v4\/locales\/en\.js$/),
    ]);
    expect(sources.filter((s) => s.includes("agent-controller"))).toEqual([]);
    expect(urls.filter((u) => u.endsWith("/dist/guardian.js"))).toEqual([]);
    expect(urls.filter((u) => u.startsWith("node:"))).toEqual([]);
  });
});
