// Tests of ./agentmuxw in a scratch copy of its setup: the wrapper script, a
// hard-linked copy of this checkout's .tools/ (so nothing is downloaded when
// the pinned Node is already here) and an empty workspace. An "old system
// Node" is a stand-in `node` that reports v20.0.0, first on the scratch PATH,
// so the scenarios are the same whatever Node this machine has.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

const root = new URL("../..", import.meta.url).pathname;
const NODE_PIN = /NODE_PIN="([^"]+)"/.exec(readFileSync(join(root, "agentmuxw"), "utf8"))[1];
const PNPM_PIN = /PNPM_PIN="([^"]+)"/.exec(readFileSync(join(root, "agentmuxw"), "utf8"))[1];
const nodePackage = `node-${process.platform === "darwin" ? "darwin" : "linux"}-${process.arch === "arm64" ? "arm64" : "x64"}`;

let dir;
let scratch;
let oldNode;
/** The PATH of a machine whose only Node is old: the stand-in first, then the system's directories. */
let basePath;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "agentmuxw-test-"));
  scratch = join(dir, "repo");
  mkdirSync(join(scratch, "scripts"), { recursive: true });
  copyFileSync(join(root, "agentmuxw"), join(scratch, "agentmuxw"));
  copyFileSync(join(root, "scripts/start.mjs"), join(scratch, "scripts/start.mjs"));
  if (existsSync(join(root, ".tools"))) execFileSync("cp", ["-al", join(root, ".tools"), join(scratch, ".tools")]);
  writeFileSync(
    join(scratch, "package.json"),
    JSON.stringify({ name: "scratch", private: true, packageManager: `pnpm@${PNPM_PIN}` }),
  );
  writeFileSync(
    join(scratch, "pnpm-lock.yaml"),
    "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\nimporters:\n\n  .: {}\n",
  );
  oldNode = join(dir, "old-system-bin");
  mkdirSync(oldNode);
  writeFileSync(
    join(oldNode, "node"),
    '#!/bin/sh\n# stands for an old system Node\nif [ "$1" = -p ]; then echo 20.0.0; else echo v20.0.0; fi\n',
  );
  chmodSync(join(oldNode, "node"), 0o755);
  // npm is needed only when the pinned toolchain is not here yet; keep the real one reachable.
  const npmDir = spawnSync("sh", ["-c", 'dirname "$(command -v npm)"'], { encoding: "utf8" }).stdout.trim();
  basePath = [oldNode, "/usr/local/bin", "/usr/bin", "/bin", npmDir].filter(Boolean).join(":");
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a bash script in the scratch checkout with the given PATH; returns status and output. */
function sh(script, path) {
  const r = spawnSync("bash", ["-euo", "pipefail", "-c", script], {
    cwd: scratch,
    env: { HOME: dir, PATH: path, TERM: "dumb" },
    encoding: "utf8",
    timeout: 240_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const pinnedBin = () => join(scratch, ".tools/node_modules", nodePackage, "bin");

/** After eval "$(./agentmuxw env)": setup, pnpm, env again, and node is still the pinned one. */
const FOLLOW_README = `
eval "$(./agentmuxw env)"
./agentmuxw setup
echo "pnpm=$(pnpm --version)"
eval "$(./agentmuxw env)"
echo "node=$(node --version)"
`;

function assertKeptPinned(r) {
  assert.equal(r.status, 0, `exit ${r.status}\nstdout:\n${r.out}\nstderr:\n${r.err}`);
  assert.match(r.out, new RegExp(`^pnpm=${PNPM_PIN.replaceAll(".", "\\.")}$`, "m"));
  assert.match(r.out, new RegExp(`^node=v${NODE_PIN.replaceAll(".", "\\.")}$`, "m"));
  assert.doesNotMatch(r.err, /removed \d+ package/);
  assert.equal(readFileSync(join(scratch, ".tools/.stamp"), "utf8"), `${nodePackage}@${NODE_PIN}+pnpm@${PNPM_PIN}`);
  assert.ok(existsSync(join(pinnedBin(), "node")), "the pinned Node is still installed");
}

describe("agentmuxw with an old system Node", () => {
  test("first setup installs the pinned Node and uses it", () => {
    const r = sh('./agentmuxw setup && eval "$(./agentmuxw env)" && echo "node=$(node --version)"', basePath);
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, new RegExp(`^node=v${NODE_PIN.replaceAll(".", "\\.")}$`, "m"));
  });

  test('eval "$(./agentmuxw env)" then setup, pnpm --version and env again keep the pinned Node', () => {
    assertKeptPinned(sh(FOLLOW_README, basePath));
  });

  test("the pinned Node first on PATH by hand keeps it too", () => {
    assertKeptPinned(sh(FOLLOW_README, `${pinnedBin()}:${basePath}`));
  });

  test("a symlink to the pinned Node elsewhere on PATH is not taken for the system's", () => {
    const bin = join(dir, "home-bin");
    mkdirSync(bin, { recursive: true });
    rmSync(join(bin, "node"), { force: true });
    symlinkSync(join(pinnedBin(), "node"), join(bin, "node"));
    assertKeptPinned(sh(FOLLOW_README, `${bin}:${basePath}`));
  });

  test("env is idempotent: evaluating it twice adds nothing to PATH", () => {
    const r = sh(
      'eval "$(./agentmuxw env)"; a="$PATH"; eval "$(./agentmuxw env)"; [ "$a" = "$PATH" ] && echo same',
      basePath,
    );
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /^same$/m);
  });
});

describe("agentmuxw help", () => {
  /** Task names as the case statement accepts them (aliases of help aside). */
  function acceptedTasks() {
    const script = readFileSync(join(root, "agentmuxw"), "utf8");
    const body = script.slice(script.indexOf('case "$task" in'));
    return [...body.matchAll(/^ {2}([a-z][a-z| -]*)\)/gm)]
      .flatMap((m) => m[1].split("|").map((t) => t.trim()))
      .filter((t) => !t.startsWith("-"))
      .sort();
  }

  test("--help lists exactly the tasks the wrapper accepts, and nothing of the script itself", () => {
    const r = spawnSync(join(root, "agentmuxw"), ["--help"], { encoding: "utf8" });
    assert.equal(r.status, 0);
    const listed = [...r.stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]).sort();
    assert.deepEqual(listed, acceptedTasks());
    assert.doesNotMatch(r.stdout, /set -euo|^#/m);
  });

  test("an unknown task fails with the usage", () => {
    const r = spawnSync(join(root, "agentmuxw"), ["frobnicate"], { encoding: "utf8" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown task 'frobnicate'/);
    assert.match(r.stderr, /^usage: /m);
  });

  test("start --help answers without setting up or building", () => {
    const r = sh("./agentmuxw start --help", `${pinnedBin()}:${basePath}`);
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /^usage: \.\/agentmuxw start/m);
    assert.doesNotMatch(r.err, /building/);
    assert.ok(!existsSync(join(scratch, "apps")), "nothing was built");
  });
});
