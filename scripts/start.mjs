// The main job: build everything, then run `agentmux start` in the foreground: it starts
// agentmux-srv, supervises it and prints how to connect. Arguments go to `agentmux start`
// (e.g. --data-dir DIR). Ctrl-C stops it (srv stops its agents first).
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const launcherBin = join(root, "apps/launcher/dist/bin.js");

// Help comes at once, without a build: the launcher's own when it is built, else where to read it.
if (args.includes("--help") || args.includes("-h")) {
  console.log(`usage: ./agentmuxw start [--data-dir DIR] [--instance NAME]

Builds everything, runs \`agentmux start\` in the foreground (it starts agentmux-srv,
supervises it and prints how to connect). Ctrl-C stops it.
`);
  if (existsSync(launcherBin))
    spawnSync(process.execPath, [launcherBin, "start", "--help"], { stdio: ["ignore", "inherit", "inherit"] });
  else
    console.log("flags: see apps/launcher/README.md (the launcher is not built yet, so its own --help is not at hand)");
  process.exit(0);
}

console.error("building…");
const build = spawnSync("turbo", ["run", "build", "--output-logs=errors-only"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

const launcher = spawn(process.execPath, [launcherBin, "start", ...args], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => launcher.kill(signal));
launcher.on("exit", (code) => process.exit(code ?? 1));
