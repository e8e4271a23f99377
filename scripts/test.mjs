// The test command: lint, then build, typecheck and test every package through
// turbo, then print one closing line `N passed, N failed` summed over all
// packages' vitest JSON reports. Exits non-zero if any step failed or no test ran.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const REPORT = ".vitest-report.json";

function workspaceDirs() {
  return ["packages", "apps"].flatMap((group) => {
    const dir = join(root, group);
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "package.json")))
      .map((e) => join(dir, e.name));
  });
}

function run(cmd, args) {
  console.log(`\n$ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  return r.status === 0;
}

const dirs = workspaceDirs();
for (const d of dirs) rmSync(join(d, REPORT), { force: true });

const steps = [];
steps.push(["lint", run("biome", ["check", "--error-on-warnings", "."])]);
steps.push([
  "build+typecheck+test",
  run("turbo", ["run", "build", "typecheck", "test", "--concurrency=2", "--output-logs=errors-only", "--continue"]),
]);

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const d of dirs) {
  const file = join(d, REPORT);
  if (!existsSync(file)) {
    missing.push(d.slice(root.length));
    continue;
  }
  const r = JSON.parse(readFileSync(file, "utf8"));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  // A test file that failed to load counts as a failure even when it has no tests.
  failed += r.testResults.filter((t) => t.status === "failed" && t.assertionResults.length === 0).length;
}

console.log("");
for (const [name, ok] of steps) console.log(`${ok ? "ok  " : "FAIL"} ${name}`);
if (missing.length > 0) console.log(`no test report from: ${missing.join(", ")}`);
const ok = steps.every(([, s]) => s) && failed === 0 && missing.length === 0 && passed > 0;
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(ok ? 0 : 1);
