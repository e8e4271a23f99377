// The built `./transcript` subpath must load in a browser bundle: no Node built-ins, no
// dependencies, no CommonJS, no Node globals — in dist/transcript.js and every chunk it imports.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));

/** Every file `entry` imports (itself included), following relative specifiers. */
function graph(entry: string): Map<string, string> {
  const files = new Map<string, string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    const code = readFileSync(file, "utf8");
    files.set(file, code);
    for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+)["']/g)) {
      const spec = m[1] as string;
      expect(spec.startsWith("./") || spec.startsWith("../"), `${file} imports ${spec}`).toBe(true);
      visit(join(dirname(file), spec));
    }
  };
  visit(entry);
  return files;
}

it("dist/transcript.js and its chunks import nothing but each other, and use no Node", async () => {
  const entry = join(dist, "transcript.js");
  expect(existsSync(entry), "run the build first").toBe(true);
  expect(existsSync(join(dist, "transcript.d.ts"))).toBe(true);
  for (const [file, code] of graph(entry)) {
    expect(code, file).not.toMatch(/node:/);
    expect(code, file).not.toMatch(/\brequire\(/);
    expect(code, file).not.toMatch(/\b(process|Buffer|__dirname|__filename|global)\s*\./);
  }
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  expect(pkg.exports["./transcript"]).toEqual({ types: "./dist/transcript.d.ts", import: "./dist/transcript.js" });
  const mod = await import("@agentmux/agent-controller/transcript");
  expect(
    mod.normalize(
      "gemini",
      '{"type":"tool_use","tool_name":"read_file","tool_id":"t","parameters":{"file_path":"a.ts"}}',
    ),
  ).toEqual([{ type: "tool_call", id: "t", name: "read_file", input: { file_path: "a.ts" }, summary: "a.ts" }]);
});

it("the README's transcript example (examples/transcript.mjs) runs against the built package", async () => {
  const { execFileSync } = await import("node:child_process");
  const out = execFileSync(process.execPath, [fileURLToPath(new URL("../examples/transcript.mjs", import.meta.url))], {
    encoding: "utf8",
  });
  expect(out).toContain("→ Bash: touch one.txt\n← ok: (Bash completed with no output)\n");
  expect(out).toContain("← error: not today\n");
  expect(out.trim().split("\n").at(-1)).toBe("13 events, tool calls: Bash @8334, Bash @14879");
});

it("src/transcript imports nothing but its own modules", () => {
  const dir = fileURLToPath(new URL("../src/transcript/", import.meta.url));
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".ts") && !n.endsWith(".test.ts"))) {
    const code = readFileSync(join(dir, name), "utf8");
    for (const m of code.matchAll(/\bfrom\s*["']([^"']+)["']/g))
      expect(m[1]?.startsWith("./"), `src/transcript/${name} imports ${m[1]}`).toBe(true);
  }
});
