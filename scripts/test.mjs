// The test command: lint; the README's first command as a new user runs it
// (`start`: build, run srv, print how to connect, stop on Ctrl-C); build,
// typecheck and test every package through turbo; then the repository scripts'
// own tests (node --test scripts/test/*.test.mjs: the wrapper, and every package packed,
// installed outside the repository and its README example run there, which
// needs the build); then one closing line `N passed, N failed` summed over all
// packages' vitest JSON reports and the scripts' tests. Exits non-zero if any
// step failed or no test ran.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
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

/** Runs scripts/start.mjs on a scratch data dir: it must print its endpoints, answer /health and stop cleanly on SIGINT. */
async function startSmoke() {
  console.log("\n$ node scripts/start.mjs --data-dir <scratch>   (the README's first command)");
  const dir = mkdtempSync(join(tmpdir(), "agentmux-start-"));
  const child = spawn(process.execPath, [join(root, "scripts/start.mjs"), "--data-dir", join(dir, "data")], {
    cwd: root,
    env: { ...process.env, AGENTMUX_SRV_PIPE_PATH: join(dir, "srv.sock") },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 300_000;
  let ok = false;
  try {
    while (!out.includes("Ctrl-C stops it.")) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`start did not come up:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const web = /HTTP\s+(http:\/\/\S+)/.exec(out)?.[1];
    const health = await fetch(`${web}/health`);
    const body = await health.json();
    if (health.status !== 200 || body.status !== "ok") throw new Error(`/health answered ${health.status}`);
    child.kill("SIGINT");
    const code = await exited;
    if (code !== 0) throw new Error(`start exited ${code} on Ctrl-C`);
    console.log(`srv came up (${web}), answered /health and stopped cleanly`);
    ok = true;
  } catch (err) {
    console.log(String(err));
    child.kill("SIGKILL");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return ok;
}

/** The repository's own scripts (the wrapper, packing and installing the packages): node's test runner; returns its pass and fail counts. */
function scriptTests() {
  console.log("\n$ node --test scripts/test/*.test.mjs");
  const r = spawnSync(process.execPath, ["--test", "--test-reporter=tap", "scripts/test/*.test.mjs"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(r.stdout)?.[1] ?? 0);
  const counts = { ok: r.status === 0, passed: count("pass"), failed: count("fail") };
  console.log(counts.ok ? `${counts.passed} passed` : r.stdout);
  return counts;
}

/**
 * The system programs the tests drive for real: tmux (the relay's pane delivery), zsh (the
 * completion script) and Chromium (the dashboard's browser tests; Playwright's own browser
 * download cannot be fetched here, Debian's package can). A clean Debian machine has none of
 * them; as root, they are installed here.
 */
function systemTools() {
  const wanted = ["tmux", "zsh", "chromium"];
  const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
  const absent = wanted.filter((cmd) => !has(cmd));
  if (absent.length === 0) return true;
  console.log(`\n$ apt-get install -y ${absent.join(" ")}   (the tests run them for real)`);
  if (process.getuid?.() !== 0 || !has("apt-get")) {
    console.log(`missing: ${absent.join(", ")}; install them (Debian: apt-get install ${absent.join(" ")})`);
    return false;
  }
  const quiet = { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } };
  const install = () => spawnSync("apt-get", ["install", "-y", "-q", ...absent], quiet).status === 0;
  // A fresh machine's package lists may be empty or stale: update once, then try again.
  return install() || (spawnSync("apt-get", ["update", "-q"], quiet).status === 0 && install());
}

const steps = [];
steps.push(["system tools (tmux, zsh, chromium)", systemTools()]);
steps.push(["lint", run("biome", ["check", "--error-on-warnings", "."])]);
steps.push(["start (README first command)", await startSmoke()]);
steps.push([
  "build+typecheck+test",
  run("turbo", ["run", "build", "typecheck", "test", "--concurrency=2", "--output-logs=errors-only", "--continue"]),
]);
// After the build: these tests pack the built packages and install them outside the repository.
const scripts = scriptTests();
steps.push(["scripts (the wrapper, packages installed by a stranger)", scripts.ok]);

let passed = scripts.passed;
let failed = scripts.failed;
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
