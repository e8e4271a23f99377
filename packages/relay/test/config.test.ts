import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { tempDir } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { isRelayError, loadRelayConfig, type RelayError, writeStarterFiles } from "../src/index.js";

/** A config dir holding the starter files, with `files` written over them (null: deleted). */
async function configDir(files: Record<string, string | null> = {}): Promise<string> {
  const dir = tempDir("agentmux-relay-config-");
  await writeStarterFiles(dir);
  for (const [file, content] of Object.entries(files)) {
    const path = join(dir, file);
    if (content === null) {
      await rm(path);
    } else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
  }
  return dir;
}

async function loadError(dir: string, bundleName = "example"): Promise<RelayError> {
  try {
    await loadRelayConfig({ configDir: dir, bundleName });
  } catch (err) {
    if (isRelayError(err)) return err;
    throw err;
  }
  throw new Error("loadRelayConfig succeeded");
}

const CODERS = `format-version = 1
[[coders]]
id = "claude"
[coders.tmux]
initial-command = "claude"
resume-command = "claude --resume {coder-session-id}"
prompt-regex = "^> $"
prompt-inspect-lines = 5
prompt-idle-column = 2

[[coders]]
id = "gemini"
[coders.acp]
channel = "stdio"
command = "gemini --experimental-acp"
turn-timeout-ms = 60000
environment = [{ name = "GEMINI_HOME", value = "/tmp/g" }]
`;

const BUNDLE = `format-version = 1
autostart = true
groups = ["dev", "nightly"]

[[sessions]]
id = "alice"
name = "Alice"
directory = "/src/a"
coder = "claude"
coder-session-id = "abc-123"
policy = "operator"

[[sessions]]
id = "bob"
directory = "/src/b"
coder = "gemini"
`;

/** A bundle file with one session whose table is `session` (id, directory and coder are filled in unless given). */
function bundleWith(session: string, top = ""): string {
  const defaults = ['id = "alice"', 'directory = "/d"', 'coder = "claude"'].filter(
    (line) => !session.includes(`${line.split(" ")[0]} =`),
  );
  return `format-version = 1\n${top}\n[[sessions]]\n${[...defaults, session].join("\n")}\n`;
}

describe("configuration (relay.md §4)", () => {
  it("starter files load as a valid configuration", async () => {
    const dir = tempDir("agentmux-relay-config-");
    const written = await writeStarterFiles(dir);
    expect(written.map((p) => p.slice(dir.length + 1)).sort()).toEqual([
      "bundles/example.toml",
      "coders.toml",
      "policies.toml",
      "tui.toml",
    ]);
    const config = await loadRelayConfig({ configDir: dir, bundleName: "example" });
    expect(config.bundle.sessions.map((s) => s.id)).toEqual(["agent"]);
    expect(config.policies.default).toBe("member");
    expect(config.tui.sessions).toEqual([{ id: "user", name: "User", policy: "operator" }]);
  });

  it("writeStarterFiles never overwrites and writes only what is missing", async () => {
    const dir = tempDir("agentmux-relay-config-");
    await writeFile(join(dir, "policies.toml"), "# mine\n");
    const written = await writeStarterFiles(dir);
    expect(written.map((p) => p.slice(dir.length + 1)).sort()).toEqual([
      "bundles/example.toml",
      "coders.toml",
      "tui.toml",
    ]);
    expect(await readFile(join(dir, "policies.toml"), "utf8")).toBe("# mine\n");
    await writeFile(join(dir, "coders.toml"), "# edited\n");
    expect(await writeStarterFiles(dir)).toEqual([]);
    expect(await readFile(join(dir, "coders.toml"), "utf8")).toBe("# edited\n");
  });

  it("parses every file into camelCase types", async () => {
    const dir = await configDir({ "coders.toml": CODERS, "bundles/dev.toml": BUNDLE });
    const config = await loadRelayConfig({ configDir: dir, bundleName: "dev" });
    expect(config.bundleName).toBe("dev");
    expect(config.coders).toEqual([
      {
        id: "claude",
        transport: "tmux",
        tmux: {
          initialCommand: "claude",
          resumeCommand: "claude --resume {coder-session-id}",
          promptRegex: "^> $",
          promptInspectLines: 5,
          promptIdleColumn: 2,
        },
      },
      {
        id: "gemini",
        transport: "acp",
        acp: {
          channel: "stdio",
          command: "gemini --experimental-acp",
          turnTimeoutMs: 60000,
          environment: [{ name: "GEMINI_HOME", value: "/tmp/g" }],
        },
      },
    ]);
    expect(config.bundle).toEqual({
      name: "dev",
      autostart: true,
      groups: ["dev", "nightly"],
      sessions: [
        {
          id: "alice",
          name: "Alice",
          directory: "/src/a",
          coder: "claude",
          coderSessionId: "abc-123",
          policy: "operator",
        },
        { id: "bob", directory: "/src/b", coder: "gemini" },
      ],
    });
    expect(config.policies.policies.find((p) => p.id === "member")?.controls.raww).toBe("self");
  });

  it("re-reads the files on every call", async () => {
    const dir = await configDir();
    expect((await loadRelayConfig({ configDir: dir, bundleName: "example" })).bundle.autostart).toBe(false);
    const path = join(dir, "bundles/example.toml");
    await writeFile(path, (await readFile(path, "utf8")).replace("autostart = false", "autostart = true"));
    expect((await loadRelayConfig({ configDir: dir, bundleName: "example" })).bundle.autostart).toBe(true);
  });

  it("22. a missing policies.toml fails the load", async () => {
    const err = await loadError(await configDir({ "policies.toml": null }));
    expect(err.code).toBe("validation_invalid_configuration");
    expect(err.message).toBe("policies.toml: file is missing");
    expect(err.details?.file).toMatch(/policies\.toml$/);
  });

  it.each(["coders.toml", "tui.toml"])("a missing %s fails the load", async (file) => {
    const err = await loadError(await configDir({ [file]: null }));
    expect(err.message).toBe(`${file}: file is missing`);
  });

  it("an unknown bundle and an unsafe bundle name have their own codes", async () => {
    const dir = await configDir();
    expect((await loadError(dir, "nope")).code).toBe("validation_unknown_bundle");
    expect((await loadError(dir, "..")).code).toBe("validation_invalid_bundle_name");
    expect((await loadError(dir, "../bundles/example")).code).toBe("validation_invalid_bundle_name");
  });

  it.each([
    [
      "an unknown key",
      "coders.toml",
      CODERS.replace("prompt-regex", "prompt-regexp"),
      "coders[0].tmux.prompt-regexp: unknown key",
    ],
    ["a snake_case key", "tui.toml", "format_version = 1", "format_version: unknown key"],
    ["format-version 2", "policies.toml", "format-version = 2", "format-version: must be 1"],
    ["a missing format-version", "coders.toml", "", "format-version: is required (format-version = 1)"],
    [
      "a wrong type",
      "bundles/example.toml",
      bundleWith("", "autostart = 'yes'"),
      "autostart: Invalid input: expected boolean, received string",
    ],
    [
      "a missing directory",
      "bundles/example.toml",
      'format-version = 1\n[[sessions]]\nid = "a"\ncoder = "claude"',
      "sessions[0].directory: is required",
    ],
    [
      "zero sessions",
      "bundles/example.toml",
      "format-version = 1\nsessions = []",
      "sessions: a bundle needs at least one [[sessions]] entry",
    ],
    ["no sessions key", "bundles/example.toml", "format-version = 1", "sessions: is required"],
    [
      "a session id starting with a digit",
      "bundles/example.toml",
      bundleWith('id = "1a"'),
      'sessions[0].id: invalid session id "1a"',
    ],
    [
      "a session id of 32 characters",
      "bundles/example.toml",
      bundleWith(`id = "${"a".repeat(32)}"`),
      "sessions[0].id: invalid session id",
    ],
    [
      "duplicate session ids",
      "bundles/example.toml",
      `${bundleWith("")}\n[[sessions]]\nid = "alice"\ndirectory = "/e"\ncoder = "claude"\n`,
      'sessions[1].id: duplicate session id "alice" (first at [0])',
    ],
    [
      "duplicate session names",
      "bundles/example.toml",
      `${bundleWith('name = "X"')}\n[[sessions]]\nid = "bob"\nname = "X"\ndirectory = "/e"\ncoder = "claude"\n`,
      'sessions[1].name: duplicate session name "X"',
    ],
    ["an uppercase group", "bundles/example.toml", bundleWith("", 'groups = ["ALL"]'), "groups[0]: must be lowercase"],
    [
      "a duplicate group",
      "bundles/example.toml",
      bundleWith("", 'groups = ["a", "a"]'),
      'groups[1]: duplicate group "a"',
    ],
    [
      "an unknown coder",
      "bundles/example.toml",
      bundleWith('coder = "claud"'),
      'sessions[0].coder: unknown coder "claud" (coders.toml defines: claude)',
    ],
    [
      "a coder with both transports",
      "coders.toml",
      `${CODERS}\n[coders.tmux]\ninitial-command = "x"\nresume-command = "x"\n`,
      "coders[1]: needs exactly one of [coders.tmux] or [coders.acp]",
    ],
    [
      "a coder with no transport",
      "coders.toml",
      'format-version = 1\n[[coders]]\nid = "claude"',
      "coders[0]: needs exactly one of [coders.tmux] or [coders.acp]",
    ],
    [
      "duplicate coder ids",
      "coders.toml",
      CODERS.replace('id = "gemini"', 'id = "claude"'),
      'coders[1].id: duplicate coder id "claude"',
    ],
    [
      "an unknown resume placeholder",
      "coders.toml",
      CODERS.replace("{coder-session-id}", "{session}"),
      "coders[0].tmux.resume-command: unknown placeholder {session} (only {coder-session-id} is allowed)",
    ],
    [
      "an invalid prompt regex",
      "coders.toml",
      CODERS.replace('"^> $"', '"(unclosed"'),
      "coders[0].tmux.prompt-regex: not a valid regular expression",
    ],
    [
      "too many prompt-inspect-lines",
      "coders.toml",
      CODERS.replace("prompt-inspect-lines = 5", "prompt-inspect-lines = 41"),
      "coders[0].tmux.prompt-inspect-lines: must be at most 40",
    ],
    [
      "an ACP stdio coder without command",
      "coders.toml",
      CODERS.replace('command = "gemini --experimental-acp"', ""),
      "coders[1].acp.command: is required",
    ],
    [
      "an unknown ACP channel",
      "coders.toml",
      CODERS.replace('channel = "stdio"', 'channel = "ws"'),
      'coders[1].acp.channel: must be "stdio" or "http"',
    ],
    [
      "a zero turn timeout",
      "coders.toml",
      CODERS.replace("turn-timeout-ms = 60000", "turn-timeout-ms = 0"),
      "coders[1].acp.turn-timeout-ms: must be a positive integer",
    ],
    [
      "duplicate policy ids",
      "policies.toml",
      'format-version = 1\n[[policies]]\nid = "p"\ncontrols = { find = "self", list = "all:home", look = "self", send = "all:home" }\n[[policies]]\nid = "p"\ncontrols = { find = "self", list = "all:home", look = "self", send = "all:home" }',
      'policies[1].id: duplicate policy id "p"',
    ],
    [
      "a policy without controls.send",
      "policies.toml",
      'format-version = 1\n[[policies]]\nid = "p"\ncontrols = { find = "self", list = "all:home", look = "self" }',
      "policies[0].controls.send: is required",
    ],
    [
      "duplicate UI session ids",
      "tui.toml",
      'format-version = 1\n[[sessions]]\nid = "u"\npolicy = "p"\n[[sessions]]\nid = "u"\npolicy = "p"',
      'sessions[1].id: duplicate session id "u"',
    ],
    [
      "a UI session without policy",
      "tui.toml",
      'format-version = 1\n[[sessions]]\nid = "u"',
      "sessions[0].policy: is required",
    ],
    [
      "an invalid default bundle",
      "tui.toml",
      'format-version = 1\ndefault-bundle = ".hidden"',
      'default-bundle: invalid bundle name ".hidden"',
    ],
  ])("rejects %s with the file and key in the message", async (_what, file, content, expected) => {
    const err = await loadError(await configDir({ [file]: content }));
    expect(err.code).toBe("validation_invalid_configuration");
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    expect(err.message).toContain(expected);
    expect(String(err.details?.file).endsWith(`/${file}`)).toBe(true);
    expect(err.details?.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: expected.split(":")[0] })]),
    );
  });

  it("reports invalid TOML with its line and column", async () => {
    const err = await loadError(await configDir({ "coders.toml": "format-version = 1\n[[coders]\n" }));
    expect(err.code).toBe("validation_invalid_configuration");
    expect(err.message).toMatch(/^coders\.toml: invalid TOML at line 2, column \d+: /);
  });

  it("reports every problem of a file at once", async () => {
    const err = await loadError(
      await configDir({ "bundles/example.toml": 'format-version = 3\nextra = 1\n[[sessions]]\nid = "9"\n' }),
    );
    const paths = ((err.details?.issues ?? []) as { path: string }[]).map((i) => i.path).sort();
    expect(paths).toEqual(["extra", "format-version", "sessions[0].coder", "sessions[0].directory", "sessions[0].id"]);
  });

  it("accepts an ACP http coder with headers", async () => {
    const coders = `${CODERS}\n[[coders]]\nid = "remote"\n[coders.acp]\nchannel = "http"\nurl = "https://example.test/acp"\nheaders = [{ name = "Authorization", value = "Bearer x" }]\n`;
    const config = await loadRelayConfig({
      configDir: await configDir({ "coders.toml": coders }),
      bundleName: "example",
    });
    expect(config.coders.find((c) => c.id === "remote")).toEqual({
      id: "remote",
      transport: "acp",
      acp: {
        channel: "http",
        url: "https://example.test/acp",
        headers: [{ name: "Authorization", value: "Bearer x" }],
        environment: [],
      },
    });
  });
});
