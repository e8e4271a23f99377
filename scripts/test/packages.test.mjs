// Packages a stranger can install. Every publishable workspace package (packages/*, apps/*; a
// `"private": true` one, such as packages/testkit, is never published and is left out) is packed
// with `pnpm pack` (which turns `workspace:` ranges into versions), and all the tarballs are
// installed with one `npm install` into a scratch project outside the repository: third-party
// dependencies come from the npm registry, ours from the tarballs (overrides point every
// @agentmux dependency at its tarball, since they are not published). The install is "shallow":
// only the tarballs sit at the project's top level and each package's own dependencies live
// under it, so a package that uses something it does not declare fails here as it would for
// someone whose project does not happen to hoist it.
//
// Then, one test per package: its manifest names files that exist (`main`, `types`, `exports`,
// `bin`) and no `workspace:` range; every package its shipped code or types import is a declared
// dependency; every entry point imports from the scratch project; its types resolve and check
// (tsc, strict, skipLibCheck off); and each example its README links to (copied out of the
// installed package, so the README, the tarball and the example cannot drift apart) runs there
// and imports nothing the README's `npm install` line leaves out. For `@agentmux/srv`: the
// installed `agentmux-srv` bin starts on a scratch data dir, prints AGENTMUXSRV-ESTART, answers
// /health and exits 0 on stdin EOF and on SIGTERM.
//
// Needs the packages built (the test command builds before it runs the scripts' tests) and npm.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative } from "node:path";
import { after, before, describe, test } from "node:test";

const root = realpathSync(new URL("../..", import.meta.url).pathname);

/** What each README example must print (besides exiting 0), keyed by package and example file. */
const EXPECTED_OUTPUT = {
  "@agentmux/common-ipc": { "examples/decode.mjs": 'command: ping {"cmd":"ping","nonce":7,"req_id":"a1"}' },
  "@agentmux/reducer": { "examples/quickstart.mjs": "invariant violations: 0" },
  "@agentmux/store": { "examples/quickstart.mjs": "rebuilt blocks: 1 version: 4" },
  "@agentmux/saga": { "examples/tear-off.mjs": "saga 2 compensated" },
  "@agentmux/agent-controller": { "examples/session.mjs": "stopped: exited, status done, exit code 0" },
  "@agentmux/relay": { "examples/two-agents.mjs": "forged send: validation_invalid_params" },
};

/** The workspace packages that would be published (all but the private ones): `{ dir, manifest }`. */
function workspacePackages() {
  return ["packages", "apps"].flatMap((group) => {
    const base = join(root, group);
    if (!existsSync(base)) return [];
    return readdirSync(base, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(base, e.name, "package.json")))
      .map((e) => ({ dir: join(base, e.name), manifest: readJson(join(base, e.name, "package.json")) }))
      .filter((p) => p.manifest.private !== true);
  });
}

/** `@agentmux/store` → `agentmux-store` (as in the tarball's name). */
function slug(name) {
  return name.replace(/^@/, "").replace("/", "-");
}

const secs = (from, to) => `${((to - from) / 1000).toFixed(1)} s`;

function readJson(file) {
  return JSON.parse(readFileSync(file, "utf8"));
}

/** An executable on PATH, or null. */
function which(name) {
  for (const d of (process.env.PATH ?? "").split(delimiter)) {
    if (d !== "" && existsSync(join(d, name))) return join(d, name);
  }
  return null;
}

/** argv that runs a Node CLI (npm, pnpm) with this Node, however it is installed. */
function nodeCli(name, ...candidates) {
  const file = candidates.find((c) => existsSync(c)) ?? which(name);
  assert.ok(file, `${name} is needed for this test and is not on PATH`);
  const real = realpathSync(file);
  const head = Buffer.alloc(64);
  const fd = openSync(real, "r");
  readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  const shebang = head.toString("latin1").split("\n")[0];
  const isJs = /\.[cm]?js$/.test(real) || (shebang.startsWith("#!") && shebang.includes("node"));
  return isJs ? [process.execPath, real] : [real];
}

/** A stranger's environment: this Node first on PATH, nothing from this repository, no agentmux settings. */
function strangerEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(AGENTMUX_|NODE_PATH$|NODE_OPTIONS$)/.test(k)) delete env[k];
  const path = (env.PATH ?? "").split(delimiter).filter((d) => d !== "" && !d.startsWith(root));
  return { ...env, PATH: [dirname(process.execPath), ...path].join(delimiter), ...extra };
}

function run(argv, options) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}`;
  return { ok: r.status === 0, status: r.status, stdout: r.stdout ?? "", output };
}

/** The package a bare import specifier names (`@scope/name/sub` → `@scope/name`), or null for relative ones and builtins. */
function packageOf(spec) {
  if (spec.startsWith(".") || spec.startsWith("/") || spec.startsWith("node:") || builtinModules.includes(spec))
    return null;
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

const STATIC_IMPORT = /^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom[ \t]*["']([^"'\n]+)["']/gm;
const BARE_IMPORT = /^[ \t]*import[ \t]*["']([^"'\n]+)["']/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*["']([^"'\n]+)["']\s*\)/g;

/** The packages a module or declaration file imports (ESM statements, `import()` and type imports). */
function importedPackages(text) {
  const found = new Set();
  for (const re of [STATIC_IMPORT, BARE_IMPORT, DYNAMIC_IMPORT])
    for (const m of text.matchAll(re)) {
      const pkg = packageOf(m[1]);
      if (pkg !== null) found.add(pkg);
    }
  return found;
}

function filesUnder(dir, skip = () => false) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (skip(e.name)) return [];
    return e.isDirectory() ? filesUnder(p, skip) : [p];
  });
}

/** Every path string in an `exports` value (conditions and subpaths flattened). */
function exportTargets(value) {
  if (typeof value === "string") return [value];
  if (value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap(exportTargets);
}

/** The subpaths a package can be imported by (`.`, `./schema/x.json`, …), patterns left out. */
function exportSubpaths(pkg) {
  const exp = pkg.exports;
  if (exp === undefined) return pkg.main === undefined ? [] : ["."];
  if (typeof exp === "string" || Array.isArray(exp) || !Object.keys(exp).some((k) => k.startsWith("."))) return ["."];
  return Object.keys(exp).filter((k) => k.startsWith(".") && !k.includes("*") && exp[k] !== null);
}

/** The examples a README links to (`[…](examples/x.mjs)`), in order. */
function readmeExamples(readme) {
  return [...new Set([...readme.matchAll(/\]\((examples\/[^)\s#]+)\)/g)].map((m) => m[1]))];
}

/** The packages the README's `npm install …` line installs. */
function readmeInstall(readme) {
  const line = /^\s*npm install ([^\n]+)$/m.exec(readme)?.[1];
  return line === undefined ? null : line.split(/\s+/).filter((a) => a !== "" && !a.startsWith("-"));
}

const packages = workspacePackages();
let dir; // scratch root: tarballs/, project/
let project;
/** tsc's output over the type-check files (empty when they check). */
let tscDiagnostics;

before(
  () => {
    for (const p of packages) {
      const entry = p.manifest.main ?? exportTargets(p.manifest.exports)[0];
      assert.ok(
        entry === undefined || existsSync(join(p.dir, entry)),
        `${p.manifest.name} is not built (${entry} is missing): build first (./agentmuxw pnpm -r build)`,
      );
    }
    dir = mkdtempSync(join(tmpdir(), "agentmux-packages-"));
    const tarballs = join(dir, "tarballs");
    project = join(dir, "project");
    mkdirSync(tarballs);
    mkdirSync(project);

    const t0 = Date.now();
    const pnpm = nodeCli("pnpm", join(root, ".tools/node_modules/pnpm/bin/pnpm.cjs"));
    const filters = packages.flatMap((p) => ["--filter", `./${relative(root, p.dir)}`]);
    const packed = run([...pnpm, "-r", ...filters, "pack", "--pack-destination", tarballs], { cwd: root });
    assert.ok(packed.ok, `pnpm pack failed:\n${packed.output}`);

    const deps = {};
    for (const p of packages) {
      const file = `${slug(p.manifest.name)}-${p.manifest.version}.tgz`;
      assert.ok(existsSync(join(tarballs, file)), `pnpm pack made no ${file}`);
      deps[p.manifest.name] = `file:../tarballs/${file}`;
    }
    const overrides = Object.fromEntries(Object.keys(deps).map((name) => [name, `$${name}`]));
    writeFileSync(
      join(project, "package.json"),
      `${JSON.stringify({ name: "stranger", private: true, type: "module", dependencies: deps, overrides }, null, 2)}\n`,
    );
    const t1 = Date.now();
    const npm = nodeCli("npm");
    const installed = run([...npm, "install", "--no-audit", "--no-fund", "--install-strategy=shallow"], {
      cwd: project,
      env: strangerEnv(),
      timeout: 600_000,
    });
    assert.ok(installed.ok, `npm install of the tarballs failed:\n${installed.output}`);

    const t2 = Date.now();
    // Types, as a TypeScript user of each package sees them: one strict tsc run over a file per
    // package. Node's own types and tsc come from this repository (a user brings their own).
    const checks = packages
      .filter((p) => exportSubpaths(p.manifest).length > 0)
      .map((p) => {
        const file = `types-${slug(p.manifest.name)}.ts`;
        writeFileSync(
          join(project, file),
          `import * as pkg from "${p.manifest.name}";\nexport const names: string[] = Object.keys(pkg);\n`,
        );
        return file;
      });
    const compilerOptions = {
      module: "nodenext",
      moduleResolution: "nodenext",
      target: "es2022",
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ["node"],
      typeRoots: [join(root, "node_modules/@types")],
    };
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, files: checks }, null, 2));
    // tsc takes a while: it runs while the tests run the examples, and they wait for it.
    // Its output goes to a file: the examples run synchronously meanwhile and would not drain a pipe.
    tscDiagnostics = new Promise((resolve) => {
      const log = join(dir, "tsc.log");
      const fd = openSync(log, "w");
      const tsc = spawn(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], {
        cwd: project,
        stdio: ["ignore", fd, fd],
      });
      closeSync(fd);
      tsc.on("error", (err) => resolve(`tsc did not start: ${err.message}`));
      tsc.on("close", (code) => {
        console.log(`pnpm pack ${secs(t0, t1)}, npm install ${secs(t1, t2)}, tsc ${secs(t2, Date.now())}`);
        resolve(code === 0 ? "" : readFileSync(log, "utf8") || `tsc exited ${code}`);
      });
    });
  },
  { timeout: 900_000 },
);

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Copies the installed package's examples/ into the project (as a user would copy them out of the
 * README) and runs each linked example that uses an @agentmux package there.
 */
function runExamples(name, installedDir, readme, examples) {
  const copy = join(project, `examples-${slug(name)}`);
  cpSync(join(installedDir, "examples"), copy, { recursive: true });
  const install = readmeInstall(readme) ?? [name];
  for (const ex of examples) {
    const file = join(copy, ex.slice("examples/".length));
    const imports = importedPackages(readFileSync(file, "utf8"));
    // Helper files an example uses (a stand-in CLI, say) are copied but not run on their own.
    if (![...imports].some((p) => p.startsWith("@agentmux/"))) continue;
    for (const dep of imports)
      assert.ok(install.includes(dep), `${ex} imports ${dep}, which the README's npm install line leaves out`);
    const r = run([process.execPath, file], { cwd: project, env: strangerEnv(), timeout: 120_000 });
    assert.ok(r.ok, `node ${ex} in the scratch project exited ${r.status}:\n${r.output}`);
    const expected = EXPECTED_OUTPUT[name]?.[ex];
    if (expected !== undefined) assert.ok(r.stdout.includes(expected), `${ex} did not print ${expected}:\n${r.output}`);
    else assert.notEqual(r.stdout.trim(), "", `${ex} printed nothing`);
  }
}

// Concurrent: while one test waits for tsc, the next runs its example.
describe("packed and installed outside the repository", { concurrency: true }, () => {
  for (const { manifest } of packages) {
    const name = manifest.name;

    test(`${name}: manifest, dependencies, entry points, README example and types`, { timeout: 300_000 }, async () => {
      const installedDir = join(project, "node_modules", name);
      const pkg = readJson(join(installedDir, "package.json"));

      // The manifest as published.
      for (const field of ["dependencies", "peerDependencies", "optionalDependencies"])
        for (const [dep, range] of Object.entries(pkg[field] ?? {}))
          assert.ok(!String(range).startsWith("workspace:"), `${field}.${dep} is still ${range}`);
      const targets = [
        pkg.main,
        pkg.types,
        pkg.module,
        ...exportTargets(pkg.exports),
        ...(typeof pkg.bin === "string" ? [pkg.bin] : Object.values(pkg.bin ?? {})),
      ].filter((t) => typeof t === "string");
      for (const t of targets)
        assert.ok(existsSync(join(installedDir, t)), `package.json names ${t}: not in the tarball`);

      // Everything its shipped code and types import is declared.
      const declared = new Set(
        ["dependencies", "peerDependencies", "optionalDependencies"].flatMap((f) => Object.keys(pkg[f] ?? {})),
      );
      const shipped = filesUnder(installedDir, (n) => n === "node_modules" || n === "examples").filter((f) =>
        /\.(?:[cm]?js|d\.[cm]?ts)$/.test(f),
      );
      for (const file of shipped)
        for (const dep of importedPackages(readFileSync(file, "utf8")))
          assert.ok(
            dep === name || declared.has(dep),
            `${relative(installedDir, file)} imports ${dep}, which is not in dependencies (devDependencies are not installed for users)`,
          );

      // Every entry point loads from the project.
      const specs = exportSubpaths(pkg).map((k) => (k === "." ? name : `${name}/${k.slice(2)}`));
      const loader = specs
        .map((s) => `await import(${JSON.stringify(s)}${/\.json$/.test(s) ? ', { with: { type: "json" } }' : ""});`)
        .join("\n");
      const loaded = run([process.execPath, "--input-type=module", "-e", loader], { cwd: project, env: strangerEnv() });
      assert.ok(loaded.ok, `importing ${specs.join(", ")} failed:\n${loaded.output}`);

      // The examples its README links to are in the tarball and run in the project.
      const readme = readFileSync(join(installedDir, "README.md"), "utf8");
      const examples = readmeExamples(readme);
      assert.ok(examples.length > 0 || pkg.bin, "the README links no example (examples/…) and the package has no bin");
      for (const ex of examples)
        assert.ok(existsSync(join(installedDir, ex)), `the README links ${ex}: not in the tarball`);
      if (examples.length > 0) runExamples(name, installedDir, readme, examples);

      // Its types resolve and check as a user's project sees them. A diagnostic no package owns
      // (a broken tsconfig, a third-party declaration) fails every package.
      const diagnostics = await tscDiagnostics;
      const errors = diagnostics.split("\n").filter((l) => /error TS\d+/.test(l));
      const owned = (l, n) => l.startsWith(`types-${slug(n)}.ts`) || l.startsWith(`node_modules/${n}/`);
      const mine = errors.filter((l) => owned(l, name) || !packages.some((p) => owned(l, p.manifest.name)));
      assert.deepEqual(mine, [], `tsc on a file importing ${name}:\n${diagnostics}`);
      assert.ok(errors.length > 0 || diagnostics === "", `tsc failed without a diagnostic:\n${diagnostics}`);
    });
  }
});

describe("the installed agentmux-srv", () => {
  const srv = packages.find((p) => p.manifest.name === "@agentmux/srv");
  test("agentmux-srv (installed bin): ESTART, /health, exit 0 on stdin EOF and on SIGTERM", {
    skip: !srv,
    timeout: 120_000,
  }, async () => {
    const bin = join(project, "node_modules/.bin/agentmux-srv");
    assert.ok(existsSync(bin), "npm linked no agentmux-srv bin");
    const dataDir = join(dir, "srv-data");
    const env = strangerEnv({ AGENTMUX_SRV_PIPE_PATH: join(dir, "srv.sock") });
    for (const stop of ["stdin EOF", "SIGTERM"]) {
      const child = spawn(bin, ["--data-dir", dataDir], { cwd: project, env, stdio: ["pipe", "pipe", "pipe"] });
      let stderr = "";
      child.stdout.resume();
      const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
      try {
        const web = await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no AGENTMUXSRV-ESTART within 30 s:\n${stderr}`)), 30_000);
          child.stderr.on("data", (d) => {
            stderr += d;
            const estart = /^AGENTMUXSRV-ESTART [^\n]*\bweb:(\S+)[^\n]*\n/m.exec(stderr); // a whole line
            if (estart) {
              clearTimeout(timer);
              resolve(estart[1]);
            }
          });
          void exited.then(({ code, signal }) => {
            clearTimeout(timer);
            reject(new Error(`agentmux-srv exited (${code ?? signal}) before ESTART:\n${stderr}`));
          });
        });
        const res = await fetch(`http://${web}/health`, { signal: AbortSignal.timeout(10_000) });
        const body = await res.json();
        assert.equal(res.status, 200);
        assert.equal(body.status, "ok");
        assert.equal(body.version, srv.manifest.version);
        if (stop === "stdin EOF") child.stdin.end();
        else child.kill("SIGTERM");
        const deadline = new Promise((resolve) => setTimeout(() => resolve(null), 10_000).unref());
        const result = await Promise.race([exited, deadline]);
        assert.ok(result !== null, `agentmux-srv did not exit within 10 s of ${stop}`);
        assert.deepEqual(result, { code: 0, signal: null }, `agentmux-srv after ${stop}:\n${stderr}`);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
    }
  });
});

describe("the installed agentmux", () => {
  const launcher = packages.find((p) => p.manifest.name === "@agentmux/launcher");
  test("agentmux start (installed bin, srv found beside it): ready, status, stop", {
    skip: !launcher,
    timeout: 120_000,
  }, async () => {
    const bin = join(project, "node_modules/.bin/agentmux");
    assert.ok(existsSync(bin), "npm linked no agentmux bin");
    const dataDir = join(dir, "launcher-data");
    const env = strangerEnv({ XDG_RUNTIME_DIR: join(dir, "runtime") });
    const started = run([bin, "--data-dir", dataDir, "start", "--detach"], { cwd: project, env, timeout: 60_000 });
    assert.ok(started.ok, `agentmux start --detach failed:\n${started.output}`);
    assert.match(started.output, /agentmux is running \(srv /);
    const status = run([bin, "--data-dir", dataDir, "--json", "status"], { cwd: project, env });
    assert.ok(status.ok, status.output);
    assert.equal(JSON.parse(status.stdout).running, true);
    const stopped = run([bin, "--data-dir", dataDir, "stop"], { cwd: project, env, timeout: 30_000 });
    assert.ok(stopped.ok, `agentmux stop failed:\n${stopped.output}`);
  });
});

/**
 * A registry for the `@agentmux` scope alone, serving the packed tarballs as a published
 * release would (packuments with dist.tarball and integrity). npm takes every other package
 * from its usual registry, as it would for a user.
 */
async function scopeRegistry(manifests) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(req.url ?? "");
    const manifest = manifests.find((m) => path === `/${m.name}`);
    if (manifest) {
      const file = join(dir, "tarballs", `${slug(manifest.name)}-${manifest.version}.tgz`);
      const bytes = readFileSync(file);
      const dist = {
        tarball: `http://127.0.0.1:${server.address().port}/-/${slug(manifest.name)}.tgz`,
        shasum: createHash("sha1").update(bytes).digest("hex"),
        integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
      };
      const packument = {
        name: manifest.name,
        "dist-tags": { latest: manifest.version },
        versions: { [manifest.version]: { ...manifest, dist } },
      };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(packument));
      return;
    }
    const tgz = manifests.find((m) => path === `/-/${slug(m.name)}.tgz`);
    if (tgz) {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(readFileSync(join(dir, "tarballs", `${slug(tgz.name)}-${tgz.version}.tgz`)));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

describe("agentmux installed globally", () => {
  const launcher = packages.find((p) => p.manifest.name === "@agentmux/launcher");
  test("npm install -g --prefix of the released packages gives a working agentmux start", {
    skip: !launcher,
    timeout: 600_000,
  }, async () => {
    // The manifests as packed (workspace: ranges replaced by versions), read back from the project install.
    const manifests = packages.map((p) => readJson(join(project, "node_modules", p.manifest.name, "package.json")));
    const registry = await scopeRegistry(manifests);
    try {
      const prefix = join(dir, "global");
      const npm = nodeCli("npm");
      const env = strangerEnv({ XDG_RUNTIME_DIR: join(dir, "runtime-global"), npm_config_prefix: prefix });
      const installed = await new Promise((resolve) => {
        const child = spawn(
          npm[0],
          [
            ...npm.slice(1),
            "install",
            "-g",
            "--prefix",
            prefix,
            `--@agentmux:registry=${registry.url}`,
            "--no-audit",
            "--no-fund",
            "@agentmux/launcher",
          ],
          { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] },
        );
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        child.on("close", (code) => resolve({ ok: code === 0, output }));
      });
      assert.ok(installed.ok, `npm install -g failed:\n${installed.output}`);
      const bin = join(prefix, "bin", "agentmux");
      assert.ok(existsSync(bin), "npm install -g linked no agentmux bin");
      const dataDir = join(dir, "global-data");
      const started = run([bin, "--data-dir", dataDir, "start", "--detach"], { cwd: dir, env, timeout: 60_000 });
      assert.ok(started.ok, `agentmux start --detach failed:\n${started.output}`);
      assert.match(started.output, /agentmux is running \(srv /);
      const status = run([bin, "--data-dir", dataDir, "--json", "status"], { cwd: dir, env });
      assert.equal(JSON.parse(status.stdout).running, true, status.output);
      const ls = run([bin, "--data-dir", dataDir, "agent", "ls"], { cwd: dir, env });
      assert.ok(ls.ok, ls.output);
      assert.match(ls.stdout, /no agents yet/);
      const stopped = run([bin, "--data-dir", dataDir, "stop"], { cwd: dir, env, timeout: 30_000 });
      assert.ok(stopped.ok, `agentmux stop failed:\n${stopped.output}`);
    } finally {
      registry.close();
    }
  });
});
