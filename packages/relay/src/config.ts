/**
 * The relay's configuration (relay.md §4): four kebab-case TOML files under
 * the config directory, validated strictly (unknown keys are errors, so a
 * typo never silently changes behaviour) and turned into camelCase types.
 *
 * The relay re-reads configuration on every request so that an edit takes
 * effect without a restart; {@link loadRelayConfig} therefore caches nothing.
 * Every problem is a `validation_invalid_configuration` whose message names
 * the file and the key, e.g. `bundles/dev.toml: sessions[1].coder: unknown
 * coder "claud" (coders.toml defines: claude)`.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import { z } from "zod";
import { RelayError } from "./errors.js";
import { validateBundleName, validateSessionId } from "./names.js";
import { ALLOWED_SCOPES, type Control, isControl, isScope, type Policies, type Policy, type Scope } from "./policy.js";

// ---------------------------------------------------------------------------------------------------------------
// Parsed types

export interface NameValue {
  name: string;
  value: string;
}

export interface TmuxCoder {
  initialCommand: string;
  /** May contain `{coder-session-id}` and no other placeholder. */
  resumeCommand: string;
  /** Source of a JavaScript regular expression (checked to compile at load). */
  promptRegex?: string;
  promptInspectLines?: number;
  promptIdleColumn?: number;
}

export type AcpCoder =
  | { channel: "stdio"; command: string; turnTimeoutMs?: number; environment: NameValue[] }
  | { channel: "http"; url: string; headers: NameValue[]; turnTimeoutMs?: number; environment: NameValue[] };

export type Coder =
  | { id: string; transport: "tmux"; tmux: TmuxCoder }
  | { id: string; transport: "acp"; acp: AcpCoder };

export interface BundleSession {
  id: string;
  /** Display only; never an address. */
  name?: string;
  directory: string;
  /** The id of a coder in `coders.toml` (checked at load). */
  coder: string;
  coderSessionId?: string;
  policy?: string;
}

export interface BundleConfig {
  name: string;
  autostart: boolean;
  groups: string[];
  sessions: BundleSession[];
}

export interface TuiSession {
  id: string;
  name?: string;
  policy: string;
}

export interface TuiConfig {
  defaultBundle?: string;
  defaultSession?: string;
  sessions: TuiSession[];
}

export interface RelayConfig {
  configDir: string;
  bundleName: string;
  coders: Coder[];
  bundle: BundleConfig;
  policies: Policies;
  tui: TuiConfig;
}

/** One problem in a file: `path` is the TOML key path as written (`sessions[1].coder`), "" for the whole file. */
export interface ConfigIssue {
  path: string;
  message: string;
}

export const CONFIG_DEFAULTS = Object.freeze({
  formatVersion: 1,
  /** The only placeholder a resume command may use. */
  resumePlaceholder: "{coder-session-id}",
  maxPromptInspectLines: 40,
});

export const CONFIG_FILES = Object.freeze({
  coders: "coders.toml",
  policies: "policies.toml",
  tui: "tui.toml",
  bundlesDir: "bundles",
});

// ---------------------------------------------------------------------------------------------------------------
// Names (relay.md §1): the session id and bundle name rules live in names.ts; groups are only ever config.

/** Custom groups are lowercase; uppercase names (like the implicit `ALL`) are reserved. */
const GROUP_NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** A zod check that runs one of names.ts's validators and reports its message at the key. */
function nameCheck(validateName: (name: string) => string) {
  return (ctx: { value: string; issues: z.core.$ZodRawIssue[] }) => {
    try {
      validateName(ctx.value);
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      ctx.issues.push({ code: "custom", message: err.message, input: ctx.value });
    }
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Schemas of the files as written (kebab-case)

const text = z.string().min(1, "must not be empty");
const formatVersion = z.literal(CONFIG_DEFAULTS.formatVersion, {
  error: (issue) =>
    issue.input === undefined
      ? `is required (format-version = ${CONFIG_DEFAULTS.formatVersion})`
      : `must be ${CONFIG_DEFAULTS.formatVersion}`,
});
const sessionId = z.string().check(nameCheck(validateSessionId));
const bundleName = z.string().check(nameCheck(validateBundleName));
const positiveInt = z.int().min(1, "must be a positive integer");
const nameValues = z.array(z.strictObject({ name: text, value: z.string() })).default([]);

const resumeCommand = text.check((ctx) => {
  for (const placeholder of ctx.value.match(/\{[^{}]*\}/g) ?? []) {
    if (placeholder !== CONFIG_DEFAULTS.resumePlaceholder) {
      ctx.issues.push({
        code: "custom",
        message: `unknown placeholder ${placeholder} (only ${CONFIG_DEFAULTS.resumePlaceholder} is allowed)`,
        input: ctx.value,
      });
    }
  }
});
const promptRegex = z.string().check((ctx) => {
  try {
    new RegExp(ctx.value);
  } catch (err) {
    ctx.issues.push({
      code: "custom",
      message: `not a valid regular expression: ${(err as Error).message}`,
      input: ctx.value,
    });
  }
});

const tmuxSchema = z.strictObject({
  "initial-command": text,
  "resume-command": resumeCommand,
  "prompt-regex": promptRegex.optional(),
  "prompt-inspect-lines": z
    .int()
    .min(1, "must be at least 1")
    .max(CONFIG_DEFAULTS.maxPromptInspectLines, `must be at most ${CONFIG_DEFAULTS.maxPromptInspectLines}`)
    .optional(),
  "prompt-idle-column": z.int().min(0, "must not be negative").optional(),
});

const acpSchema = z.discriminatedUnion(
  "channel",
  [
    z.strictObject({
      channel: z.literal("stdio"),
      command: text,
      "turn-timeout-ms": positiveInt.optional(),
      environment: nameValues,
    }),
    z.strictObject({
      channel: z.literal("http"),
      url: z.url({ error: "must be a URL" }),
      headers: nameValues,
      "turn-timeout-ms": positiveInt.optional(),
      environment: nameValues,
    }),
  ],
  { error: 'must be "stdio" or "http"' },
);

const codersSchema = z.strictObject({
  "format-version": formatVersion,
  coders: z
    .array(
      z
        .strictObject({ id: text, tmux: tmuxSchema.optional(), acp: acpSchema.optional() })
        .refine((c) => (c.tmux === undefined) !== (c.acp === undefined), {
          error: "needs exactly one of [coders.tmux] or [coders.acp]",
        }),
    )
    .default([])
    .check(uniqueBy("id", "coder id")),
});

const bundleSchema = z.strictObject({
  "format-version": formatVersion,
  autostart: z.boolean().default(false),
  groups: z
    .array(
      z.string().regex(GROUP_NAME, 'must be lowercase letters, digits, ".", "_" or "-" (uppercase names are reserved)'),
    )
    .default([])
    .check((ctx) => {
      ctx.value.forEach((group, i) => {
        if (ctx.value.indexOf(group) !== i) {
          ctx.issues.push({
            code: "custom",
            message: `duplicate group ${JSON.stringify(group)}`,
            input: group,
            path: [i],
          });
        }
      });
    }),
  sessions: z
    .array(
      z.strictObject({
        id: sessionId,
        name: text.optional(),
        directory: text,
        coder: text,
        "coder-session-id": text.optional(),
        policy: text.optional(),
      }),
    )
    .min(1, "a bundle needs at least one [[sessions]] entry")
    .check(uniqueBy("id", "session id"), uniqueBy("name", "session name")),
});

const scopeText = z.string();
const policiesSchema = z.strictObject({
  "format-version": formatVersion,
  default: text.optional(),
  policies: z
    .array(
      z.strictObject({
        id: text,
        description: z.string().optional(),
        controls: z.strictObject({
          find: scopeText,
          list: scopeText,
          look: scopeText,
          send: scopeText,
          raww: scopeText.optional(),
          do: z.record(z.string(), scopeText).optional(),
        }),
      }),
    )
    .default([])
    .check(uniqueBy("id", "policy id")),
});

const tuiSchema = z.strictObject({
  "format-version": formatVersion,
  "default-bundle": bundleName.optional(),
  "default-session": sessionId.optional(),
  sessions: z
    .array(z.strictObject({ id: sessionId, name: text.optional(), policy: text }))
    .default([])
    .check(uniqueBy("id", "session id")),
});

/** A check that `key` is unique among the array's entries that have it, reporting at the repeat. */
function uniqueBy<K extends string>(key: K, what: string) {
  return (ctx: { value: Array<Partial<Record<K, unknown>>>; issues: z.core.$ZodRawIssue[] }) => {
    const first = new Map<unknown, number>();
    ctx.value.forEach((entry, i) => {
      const value = entry[key];
      if (value === undefined) return;
      const seen = first.get(value);
      if (seen === undefined) {
        first.set(value, i);
        return;
      }
      ctx.issues.push({
        code: "custom",
        message: `duplicate ${what} ${JSON.stringify(value)} (first at [${seen}])`,
        input: value,
        path: [i, key],
      });
    });
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

/**
 * Reads and validates the whole configuration a bundle's relay needs. Every
 * file is read afresh on each call. A missing file is an error (the starter
 * files are written at startup, so a missing one was removed on purpose);
 * in particular a missing `policies.toml` fails every request (§3.6).
 */
export async function loadRelayConfig(options: { configDir: string; bundleName: string }): Promise<RelayConfig> {
  const { configDir, bundleName: name } = options;
  validateBundleName(name);

  const bundleFile = join(CONFIG_FILES.bundlesDir, `${name}.toml`);
  const [codersText, bundleText, policiesText, tuiText] = await Promise.all(
    [CONFIG_FILES.coders, bundleFile, CONFIG_FILES.policies, CONFIG_FILES.tui].map((file) =>
      readConfigFile(configDir, file),
    ),
  );

  const codersRaw = validate(configDir, CONFIG_FILES.coders, codersText, codersSchema);
  if (bundleText === undefined) {
    throw new RelayError("validation_unknown_bundle", `bundle ${JSON.stringify(name)} has no ${bundleFile}`, {
      bundle_name: name,
      file: join(configDir, bundleFile),
    });
  }
  const bundleRaw = validate(configDir, bundleFile, bundleText, bundleSchema);
  const policiesRaw = validate(configDir, CONFIG_FILES.policies, policiesText, policiesSchema);
  const tuiRaw = validate(configDir, CONFIG_FILES.tui, tuiText, tuiSchema);

  const coders = codersRaw.coders.map(toCoder);
  const coderIds = coders.map((c) => c.id);
  const unknownCoders: ConfigIssue[] = [];
  bundleRaw.sessions.forEach((s, i) => {
    if (!coderIds.includes(s.coder)) {
      unknownCoders.push({
        path: `sessions[${i}].coder`,
        message: `unknown coder ${JSON.stringify(s.coder)} (${CONFIG_FILES.coders} defines: ${coderIds.join(", ") || "none"})`,
      });
    }
  });
  if (unknownCoders.length > 0) throw configError(configDir, bundleFile, unknownCoders);

  return {
    configDir,
    bundleName: name,
    coders,
    bundle: {
      name,
      autostart: bundleRaw.autostart,
      groups: bundleRaw.groups,
      sessions: bundleRaw.sessions.map((s) => ({
        id: s.id,
        name: s.name,
        directory: s.directory,
        coder: s.coder,
        coderSessionId: s["coder-session-id"],
        policy: s.policy,
      })),
    },
    policies: toPolicies(configDir, policiesRaw),
    tui: {
      defaultBundle: tuiRaw["default-bundle"],
      defaultSession: tuiRaw["default-session"],
      sessions: tuiRaw.sessions.map((s) => ({ id: s.id, name: s.name, policy: s.policy })),
    },
  };
}

/** The file's text, or undefined when it does not exist (any other read failure is a configuration error). */
async function readConfigFile(configDir: string, file: string): Promise<string | undefined> {
  try {
    return await readFile(join(configDir, file), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw configError(configDir, file, [{ path: "", message: `cannot be read: ${(err as Error).message}` }]);
  }
}

function validate<S extends z.ZodType>(
  configDir: string,
  file: string,
  source: string | undefined,
  schema: S,
): z.output<S> {
  if (source === undefined) throw configError(configDir, file, [{ path: "", message: "file is missing" }]);
  let data: unknown;
  try {
    data = parseToml(source);
  } catch (err) {
    const where = err instanceof TomlError ? ` at line ${err.line}, column ${err.column}` : "";
    const first = ((err as Error).message.split("\n")[0] ?? "").trim();
    throw configError(configDir, file, [{ path: "", message: `invalid TOML${where}: ${first}` }]);
  }
  const result = schema.safeParse(data, {
    // zod's default for an absent key is "expected string, received undefined"; say what the user must do.
    error: (issue) => (issue.code === "invalid_type" && issue.input === undefined ? "is required" : undefined),
  });
  if (!result.success) throw configError(configDir, file, result.error.issues.flatMap(toConfigIssues));
  return result.data;
}

function toConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const path = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: "unknown key" }));
  }
  return [{ path, message: issue.message }];
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

function configError(configDir: string, file: string, issues: ConfigIssue[]): RelayError {
  const described = issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ");
  return new RelayError("validation_invalid_configuration", `${file}: ${described}`, {
    file: join(configDir, file),
    issues,
  });
}

function toCoder(raw: z.output<typeof codersSchema>["coders"][number]): Coder {
  if (raw.tmux !== undefined) {
    const t = raw.tmux;
    return {
      id: raw.id,
      transport: "tmux",
      tmux: {
        initialCommand: t["initial-command"],
        resumeCommand: t["resume-command"],
        promptRegex: t["prompt-regex"],
        promptInspectLines: t["prompt-inspect-lines"],
        promptIdleColumn: t["prompt-idle-column"],
      },
    };
  }
  const a = raw.acp;
  // Unreachable: the schema requires exactly one of tmux and acp.
  if (a === undefined) throw new RelayError("validation_invalid_configuration", `coder ${raw.id} has no transport`);
  const acp: AcpCoder =
    a.channel === "stdio"
      ? { channel: "stdio", command: a.command, turnTimeoutMs: a["turn-timeout-ms"], environment: a.environment }
      : {
          channel: "http",
          url: a.url,
          headers: a.headers,
          turnTimeoutMs: a["turn-timeout-ms"],
          environment: a.environment,
        };
  return { id: raw.id, transport: "acp", acp };
}

/**
 * Checks every control's scope against {@link ALLOWED_SCOPES}. A scope a
 * control may not have is `validation_invalid_policy_scope` (not a generic
 * configuration error) so callers can tell "policy too wide" from a typo.
 */
function toPolicies(configDir: string, raw: z.output<typeof policiesSchema>): Policies {
  // `do` actions have no restriction of their own; like `find`, any scope is accepted.
  const scope = (policyIndex: number, policyId: string, control: Control | `do.${string}`, value: string): Scope => {
    const allowed = isControl(control) ? ALLOWED_SCOPES[control] : ALLOWED_SCOPES.find;
    if (isScope(value) && allowed.includes(value)) return value;
    const path = `policies[${policyIndex}].controls.${control}`;
    throw new RelayError(
      "validation_invalid_policy_scope",
      `${CONFIG_FILES.policies}: ${path}: ${JSON.stringify(value)} is not allowed (allowed: ${allowed.join(", ")})`,
      {
        file: join(configDir, CONFIG_FILES.policies),
        policy_id: policyId,
        control,
        scope: value,
        allowed_scopes: [...allowed],
      },
    );
  };
  const policies = raw.policies.map((p, i): Policy => {
    const c = p.controls;
    const policy: Policy = {
      id: p.id,
      controls: {
        find: scope(i, p.id, "find", c.find),
        list: scope(i, p.id, "list", c.list),
        look: scope(i, p.id, "look", c.look),
        send: scope(i, p.id, "send", c.send),
      },
      actions: Object.fromEntries(
        Object.entries(c.do ?? {}).map(([action, value]) => [action, scope(i, p.id, `do.${action}`, value)]),
      ),
    };
    if (c.raww !== undefined) policy.controls.raww = scope(i, p.id, "raww", c.raww);
    if (p.description !== undefined) policy.description = p.description;
    return policy;
  });
  return raw.default === undefined ? { policies } : { default: raw.default, policies };
}

// ---------------------------------------------------------------------------------------------------------------
// Starter files

const STARTER_FILES: Readonly<Record<string, string>> = Object.freeze({
  [CONFIG_FILES.coders]: `# agentmux coders: how to start (and resume) each kind of agent.
format-version = 1

[[coders]]
id = "claude"
[coders.tmux]
initial-command = "claude"
# {coder-session-id} is the only placeholder; it comes from a session's coder-session-id.
resume-command = "claude --resume {coder-session-id}"

# An agent speaking ACP over stdio:
# [[coders]]
# id = "gemini"
# [coders.acp]
# channel = "stdio"
# command = "gemini --experimental-acp"
`,
  [CONFIG_FILES.policies]: `# agentmux policies: what a session may do. Scopes: none < self < all:home < all:all.
format-version = 1
default = "member"

[[policies]]
id = "member"
description = "Lists, messages and looks at its bundle; raw input only into its own pane."
[policies.controls]
find = "self"
list = "all:home"
look = "all:home"
send = "all:home"
raww = "self"

[[policies]]
id = "operator"
description = "Everything in its bundle, including raw input into other panes."
[policies.controls]
find = "all:home"
list = "all:home"
look = "all:home"
send = "all:home"
raww = "all:home"
`,
  [CONFIG_FILES.tui]: `# agentmux UI identities: who you are when you send from the TUI or the CLI.
format-version = 1
default-bundle = "example"
default-session = "user"

[[sessions]]
id = "user"
name = "User"
policy = "operator"
`,
  [join(CONFIG_FILES.bundlesDir, "example.toml")]:
    `# An example bundle: the sessions that can message each other. Edit the directory.
format-version = 1
autostart = false
groups = []

[[sessions]]
id = "agent"
name = "Agent"
directory = "/path/to/project"
coder = "claude"
`,
});

/**
 * Writes each starter file that does not exist yet and returns the paths it
 * wrote. Never overwrites: `wx` makes the existence check and the write one
 * step, so a concurrent writer or the user's own file always wins.
 */
export async function writeStarterFiles(configDir: string): Promise<string[]> {
  await mkdir(join(configDir, CONFIG_FILES.bundlesDir), { recursive: true, mode: 0o700 });
  const written: string[] = [];
  for (const [file, content] of Object.entries(STARTER_FILES)) {
    const path = join(configDir, file);
    try {
      await writeFile(path, content, { flag: "wx", mode: 0o600 });
      written.push(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  return written;
}
