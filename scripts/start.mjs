// The main job: build everything, start agentmux-srv in the foreground and
// print how to connect. Arguments go to agentmux-srv (e.g. --data-dir DIR).
// srv's stdin is tied to this script, so srv stops when it stops.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const srvBin = join(root, "apps/srv/dist/bin.js");

// Help comes at once, without a build: srv's own usage when it is built, else where to read it.
if (args.includes("--help") || args.includes("-h")) {
  console.log(`usage: ./agentmuxw start [srv flags…]

Builds everything, runs agentmux-srv in the foreground with the flags given and
prints how to connect. Ctrl-C stops it.
`);
  if (existsSync(srvBin)) spawnSync(process.execPath, [srvBin, "--help"], { stdio: ["ignore", "inherit", "inherit"] });
  else console.log("srv flags: see apps/srv/README.md (srv is not built yet, so its own --help is not at hand)");
  process.exit(0);
}

console.error("building…");
const build = spawnSync("turbo", ["run", "build", "--output-logs=errors-only"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
// Only now that the packages are built can they be imported (a fresh clone has no dist/ yet).
const { parseSrvStderrLine } = await import("@agentmux/common-ipc");

const srv = spawn(process.execPath, [srvBin, ...args], {
  stdio: ["pipe", "inherit", "pipe"],
});
let buffer = "";
srv.stderr.on("data", (chunk) => {
  buffer += chunk;
  const lines = buffer.split("\n");
  buffer = lines.pop() ?? "";
  for (const line of lines) {
    const parsed = parseSrvStderrLine(line);
    if (parsed.kind === "migrating") console.error(`migrating the data dir (${parsed.migrations} migrations)…`);
    else if (parsed.kind === "migration_failed") console.error(`migration failed: ${parsed.error}`);
    else if (parsed.kind === "estart") void ready(parsed);
    else if (line.trim() !== "") console.error(line);
  }
});

async function ready(estart) {
  const { resolveDataDir } = await import("@agentmux/srv");
  const flag = args.includes("--data-dir") ? args[args.indexOf("--data-dir") + 1] : undefined;
  const dataDir = resolveDataDir(flag, process.env);
  const pipe = estart.pipe ?? "(not bound: see the log)";
  console.log(`agentmux-srv ${estart.version} is running (pid ${srv.pid}, instance ${estart.instance})

  HTTP       http://${estart.web}      GET /health, POST /api/v1/command (header X-AuthKey)
  WebSocket  ws://${estart.ws}/ws      one JSON command per text frame (X-AuthKey header or ?authkey=)
  Unix       ${pipe}      NDJSON, one command per line
  data dir   ${dataDir}
  auth key   $AGENTMUX_AUTH_KEY if set, else the file ${join(dataDir, "auth.key")}

try:
  curl -s http://${estart.web}/health
  curl -s -H "X-AuthKey: $(cat ${join(dataDir, "auth.key")})" -d '{"cmd":"get_srv_snapshot"}' http://${estart.web}/api/v1/command

Ctrl-C stops it.`);
}

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => srv.kill(signal));
srv.on("exit", (code) => process.exit(code ?? 1));
