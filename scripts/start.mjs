// The main job, for now: build every package and show what can be run.
// (Once srv lands, this starts it.)
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

console.log("building all packages…");
const build = spawnSync("turbo", ["run", "build", "--output-logs=errors-only"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

const rows = [];
for (const group of ["packages", "apps"]) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir).sort()) {
    const pkgFile = join(dir, name, "package.json");
    if (!existsSync(pkgFile)) continue;
    const pkg = JSON.parse(readFileSync(pkgFile, "utf8"));
    const examples = existsSync(join(dir, name, "examples"))
      ? readdirSync(join(dir, name, "examples")).filter((f) => f.endsWith(".mjs"))
      : [];
    rows.push({ pkg, dir: join(dir, name), examples });
  }
}

console.log("\nbuilt:");
for (const { pkg, dir } of rows)
  console.log(`  ${pkg.name}@${pkg.version}  ${relative(root, dir)}/dist  ${pkg.description ?? ""}`);

const runnable = rows.flatMap(({ dir, examples }) =>
  examples.map((f) => `node ${relative(root, join(dir, "examples", f))}`),
);
console.log("\nrunnable now:");
for (const r of runnable) console.log(`  ${r}`);
console.log("  ./agentmuxw test     # every test");
console.log("  ./agentmuxw bench    # every benchmark (one JSON line per figure)");

if (runnable.length > 0) {
  console.log(`\n$ ${runnable[runnable.length - 1]}`);
  const [, script] = runnable[runnable.length - 1].split(" ");
  const demo = spawnSync(process.execPath, [join(root, script)], { cwd: root, stdio: "inherit" });
  process.exit(demo.status ?? 1);
}
