import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { build, defineConfig, type Options } from "tsup";
import { library } from "../../tsup.config.base.ts";

type Plugin = NonNullable<Options["esbuildPlugins"]>[number];

/**
 * Built-ins loaded on first use rather than when the bundle starts: commander imports
 * child_process for executable subcommands (agentmux has none), and loading it costs `--help`
 * ~4 ms. A default or namespace import of one becomes a proxy that loads it when first used.
 */
const LOAD_ON_FIRST_USE = new Set(["child_process"]);

const BUILTINS = new Set(builtinModules);

/** A static import declaration at the start of a line: `import <clause> from "<specifier>";`. */
const IMPORT_DECLARATION = /^import\s+([^;'"]*?)\s*from\s*(["'])([^"']+)\2;?/gm;
/** Its clause: `x`, `* as x`, `{ a, b as c }`, `x, { … }` or `x, * as y`. */
const IMPORT_CLAUSE = /^(?:([\w$]+)\s*(?:,\s*|$))?(?:\*\s*as\s+([\w$]+)|\{([^}]*)\})?$/;

/**
 * The import declarations of built-ins in `source`, as `process.getBuiltinModule` calls (Node >=
 * 22.3); undefined when it has none. Type-only imports and imports this does not parse stay.
 */
function importBuiltinsDirectly(source: string): string | undefined {
  let changed = false;
  const out = source.replace(
    IMPORT_DECLARATION,
    (declaration: string, clause: string, _quote: string, specifier: string) => {
      const name = specifier.replace(/^node:/, "");
      const parsed = IMPORT_CLAUSE.exec(clause.trim());
      if (!BUILTINS.has(name) || clause.startsWith("type ") || !parsed) return declaration;
      const [, defaultName, namespaceName, named] = parsed;
      // Through globalThis: the declaration may bind `process` itself (commander's does).
      const load = `globalThis.process.getBuiltinModule(${JSON.stringify(`node:${name}`)})`;
      const statements: string[] = [];
      const whole = LOAD_ON_FIRST_USE.has(name) ? `new Proxy({}, { get: (_, key) => ${load}[key] })` : load;
      for (const binding of [defaultName, namespaceName]) if (binding) statements.push(`const ${binding} = ${whole};`);
      const names = (named ?? "")
        .split(",")
        .map((n) => n.trim())
        .filter((n) => n !== "" && !n.startsWith("type "))
        .map((n) => n.replace(/\s+as\s+/, ": "));
      if (names.length > 0) statements.push(`const { ${names.join(", ")} } = ${load};`);
      changed = true;
      // As many lines as the declaration had, so that the source map still points at the right lines.
      return statements.join(" ") + "\n".repeat(declaration.split("\n").length - 1);
    },
  );
  return changed ? out : undefined;
}

/**
 * Node's built-in modules without their ESM facades. For `import x from "node:process"`, Node
 * builds a facade module that reads every export of the built-in, lazy getters included (~10 ms
 * for process, ~5 ms each for util and fs, measured); commander alone imports four of them. Each
 * static import of a built-in, in our code and in what is bundled with it, takes the built-in
 * from `process.getBuiltinModule` instead, in place (no module of its own: every file a verb
 * loads costs it ~0.4 ms). Dynamic `import()` and `require()` are left as they are.
 */
const builtinsWithoutFacades: Plugin = {
  name: "builtins-without-facades",
  setup(build) {
    build.onLoad({ filter: /\.[cm]?[jt]s$/, namespace: "file" }, (args) => {
      const contents = importBuiltinsDirectly(readFileSync(args.path, "utf8"));
      if (contents === undefined) return undefined;
      return { contents, loader: args.path.endsWith("ts") ? "ts" : "js" };
    });
  },
};

/**
 * `./guardian.js` (host.ts loads it for `start --host`) stays a separate file: it is built on its
 * own below, so the agent controller's main entry (classic zod, the ACP SDK) never enters the
 * split bundle, where esbuild would put the zod core it shares with zod/mini into a chunk every
 * verb loads (with the classic-only parts: 183 KB instead of 75).
 */
const guardianApart: Plugin = {
  name: "guardian-apart",
  setup(build) {
    build.onResolve({ filter: /^\.\/guardian\.js$/ }, () => ({ path: "./guardian.js", external: true }));
  },
};

const version = JSON.parse(readFileSync(new URL("package.json", import.meta.url), "utf8")).version;

// The command: bundled (dependencies included, except srv: spawned, never linked) and split, so
// that each verb loads only its own code.
export default defineConfig({
  ...library,
  entry: ["src/bin.ts", "src/cli.ts"],
  splitting: true,
  dts: false,
  define: { __LAUNCHER_VERSION__: JSON.stringify(version) },
  noExternal: [/^(?!@agentmux\/srv)/],
  external: ["@agentmux/srv"],
  // Keep `node:` on the built-ins the plugin leaves (dynamic imports): Node >= 22 has them all.
  removeNodeProtocol: false,
  esbuildPlugins: [builtinsWithoutFacades, guardianApart],
  // Then dist/guardian.js, one file with all it needs (after the build above has cleaned dist/).
  async onSuccess() {
    await build({
      config: false,
      entry: { guardian: "src/guardian.ts" },
      outDir: "dist",
      format: ["esm"],
      target: library.target,
      sourcemap: true,
      clean: false,
      dts: false,
      splitting: false,
      noExternal: [/.*/],
      removeNodeProtocol: false,
      esbuildPlugins: [builtinsWithoutFacades],
      silent: true,
    });
  },
});
