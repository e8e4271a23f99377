// Runs every benchmark in bench/ (or the ones named on the command line) after
// a build. Each benchmark prints one JSON line per figure on stdout.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const benchDir = join(root, "bench");
const wanted = process.argv.slice(2);

const build = spawnSync("turbo", ["run", "build", "--output-logs=errors-only"], {
  cwd: root,
  stdio: ["ignore", "ignore", "inherit"],
});
if (build.status !== 0) process.exit(build.status ?? 1);

const files = readdirSync(benchDir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
let failures = 0;
for (const f of files) {
  process.stderr.write(`# ${f}\n`);
  const r = spawnSync(process.execPath, ["--disable-warning=ExperimentalWarning", "--expose-gc", join(benchDir, f)], {
    cwd: root,
    stdio: "inherit",
  });
  if (r.status !== 0) failures++;
}
process.exit(failures > 0 ? 1 : 0);
