// relay.md §1: roots, names, the bundle paths and the checks that keep them private.
// Acceptance checks 1, 2, 3 (the directory half) and 4 (the pure checks).
import { chmodSync, chownSync, mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { isRelayError, RelayError } from "../src/errors.js";
import { MAX_SESSION_ID_LENGTH, validateBundleName, validateSessionId } from "../src/names.js";
import { bundlePaths, checkOwner, MAX_SOCKET_PATH_BYTES, resolveRoots, secureBundleDir } from "../src/paths.js";

/** A uid that owns nothing here: the tests run as root, which may chown files to it. */
const FOREIGN_UID = 12345;
const uid = process.geteuid?.() ?? 0;

function thrown(fn: () => unknown): RelayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RelayError) return err;
    throw err;
  }
  throw new Error("expected a RelayError, nothing was thrown");
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe("1. XDG roots", () => {
  const home = "/home/ada";

  it("1. an unset or empty XDG_STATE_HOME falls back to ~/.local/state/agentmux", () => {
    for (const XDG_STATE_HOME of [undefined, "", "   \t"]) {
      const roots = resolveRoots({ env: { HOME: home, XDG_STATE_HOME } });
      expect(roots.state).toBe("/home/ada/.local/state/agentmux");
    }
    expect(resolveRoots({ env: { HOME: home } })).toEqual({
      config: "/home/ada/.config/agentmux",
      state: "/home/ada/.local/state/agentmux",
      logs: "/home/ada/.local/state/agentmux/inscriptions",
    });
  });

  it("1. an XDG variable wins over HOME, and a flag wins over both", () => {
    const env = { HOME: home, XDG_STATE_HOME: "/xdg/state", XDG_CONFIG_HOME: "/xdg/config" };
    expect(resolveRoots({ env })).toEqual({
      config: "/xdg/config/agentmux",
      state: "/xdg/state/agentmux",
      logs: "/xdg/state/agentmux/inscriptions",
    });
    expect(resolveRoots({ env, flags: { state: "/flag/state" } })).toEqual({
      config: "/xdg/config/agentmux",
      state: "/flag/state",
      logs: "/flag/state/inscriptions",
    });
    expect(resolveRoots({ env, flags: { config: "/c", state: "/s", logs: "/l" } })).toEqual({
      config: "/c",
      state: "/s",
      logs: "/l",
    });
  });

  it("1. a relative XDG path is ignored (the XDG spec calls it invalid)", () => {
    expect(resolveRoots({ env: { HOME: home, XDG_STATE_HOME: "rel/state" } }).state).toBe(
      "/home/ada/.local/state/agentmux",
    );
  });

  it("1. the home option wins over env.HOME", () => {
    expect(resolveRoots({ env: { HOME: "/env/home" }, home: "/opt/home" }).state).toBe(
      "/opt/home/.local/state/agentmux",
    );
  });

  it("1. no HOME and nothing else → runtime_home_unavailable", () => {
    for (const env of [{}, { HOME: "" }, { HOME: "  " }, { HOME: undefined, XDG_STATE_HOME: "" }]) {
      const err = thrown(() => resolveRoots({ env }));
      expect(err.code).toBe("runtime_home_unavailable");
      expect(err.message).toBe("home directory is unavailable; set HOME");
    }
  });

  it("1. HOME is not needed when flags and XDG give every root", () => {
    expect(resolveRoots({ env: { XDG_CONFIG_HOME: "/x" }, flags: { state: "/s" } })).toEqual({
      config: "/x/agentmux",
      state: "/s",
      logs: "/s/inscriptions",
    });
  });
});

describe("2. names", () => {
  it("2. bundle names: [A-Za-z0-9._-]+ without a leading dot", () => {
    for (const ok of ["a", "my-bundle", "v1.2_x", "A.b.c", "0", "-x", "_"]) expect(validateBundleName(ok)).toBe(ok);
    for (const bad of ["", ".", "..", ".hidden", "../x", "a/b", "a b", "a\n", "é", "a:b", "a\0"]) {
      const err = thrown(() => validateBundleName(bad));
      expect(err.code).toBe("validation_invalid_bundle_name");
      expect(err.details).toEqual({ bundle_name: bad });
    }
  });

  it("2. session ids: a letter, then [A-Za-z0-9_-], at most 31 characters", () => {
    const longest = `a${"b".repeat(MAX_SESSION_ID_LENGTH - 1)}`;
    for (const ok of ["a", "alice", "Bob_2", "x-y", longest]) expect(validateSessionId(ok)).toBe(ok);
    for (const bad of ["", "1abc", "_a", "-a", "a.b", "a:b", "a b", `${longest}c`, "a\n"]) {
      expect(thrown(() => validateSessionId(bad)).code).toBe("validation_invalid_session_id");
    }
  });

  it("2. bundlePaths refuses a bad bundle name before joining it into a path", () => {
    for (const bad of ["..", ".", "../../etc", "a/b"]) {
      expect(thrown(() => bundlePaths("/state", bad)).code).toBe("validation_invalid_bundle_name");
    }
    expect(bundlePaths("/state", "b1")).toEqual({
      bundle: "b1",
      dir: "/state/bundles/b1",
      socket: "/state/bundles/b1/relay.sock",
      lock: "/state/bundles/b1/relay.lock",
      spawnLock: "/state/bundles/b1/relay.spawn.lock",
      pid: "/state/bundles/b1/relay.pid",
    });
  });

  it("2. a socket path longer than sun_path allows is refused, naming the path and the limit", () => {
    const base = "/s/bundles/x/relay.sock".length;
    const fits = `/${"s".repeat(MAX_SOCKET_PATH_BYTES - base + 1)}`;
    expect(Buffer.byteLength(bundlePaths(fits, "x").socket)).toBe(MAX_SOCKET_PATH_BYTES);
    const deep = `${fits}s`;
    const err = thrown(() => bundlePaths(deep, "x"));
    expect(err.code).toBe("validation_socket_path_too_long");
    expect(err.message).toContain(`${deep}/bundles/x/relay.sock`);
    expect(err.message).toContain(String(MAX_SOCKET_PATH_BYTES));
    expect(err.details).toMatchObject({ bytes: MAX_SOCKET_PATH_BYTES + 1, max_bytes: MAX_SOCKET_PATH_BYTES });
  });
});

describe("3. modes: the bundle directory", () => {
  it("3. secureBundleDir creates the bundle dir with 0700", () => {
    const dir = join(tempDir(), "state", "bundles", "b");
    secureBundleDir(dir, { uid });
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(mode(dir)).toBe(0o700);
  });

  it("3. a pre-existing 0755 bundle dir is tightened to 0700, every time", () => {
    const dir = join(tempDir(), "b");
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    secureBundleDir(dir, { uid });
    expect(mode(dir)).toBe(0o700);
    chmodSync(dir, 0o777);
    secureBundleDir(dir, { uid });
    expect(mode(dir)).toBe(0o700);
  });
});

describe("4. foreign owner: the checks", () => {
  it("4. a bundle dir owned by another uid is refused, naming the path and both uids", () => {
    const dir = join(tempDir(), "b");
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, FOREIGN_UID, FOREIGN_UID);
    const err = thrown(() => secureBundleDir(dir, { uid }));
    expect(err.code).toBe("runtime_insecure_path");
    expect(err.message).toBe(`runtime directory ${dir} is owned by uid ${FOREIGN_UID}, expected uid ${uid}`);
    expect(err.details).toEqual({ path: dir, owner_uid: FOREIGN_UID, expected_uid: uid });
    // Refused before the chmod: a foreign directory is not touched.
    expect(mode(dir)).toBe(0o755);
  });

  it("4. an injected expected uid that differs from the real owner is refused the same way", () => {
    const dir = join(tempDir(), "b");
    const expected = uid + 1;
    const err = thrown(() => secureBundleDir(dir, { uid: expected }));
    expect(err.message).toBe(`runtime directory ${dir} is owned by uid ${uid}, expected uid ${expected}`);
  });

  it("4. a symlinked bundle dir is refused, never followed", () => {
    const root = tempDir();
    const real = join(root, "real");
    mkdirSync(real, { mode: 0o755 });
    chmodSync(real, 0o755);
    const link = join(root, "b");
    symlinkSync(real, link);
    const err = thrown(() => secureBundleDir(link, { uid }));
    expect(err.code).toBe("runtime_insecure_path");
    expect(err.message).toContain("symbolic link");
    expect(mode(real)).toBe(0o755);
  });

  it("4. a bundle path that is a regular file is refused", () => {
    const file = join(tempDir(), "b");
    writeFileSync(file, "");
    const err = thrown(() => secureBundleDir(file, { uid }));
    expect(err.code).toBe("runtime_insecure_path");
    expect(err.message).toBe(`runtime directory ${file} is not a directory`);
    const dangling = join(tempDir(), "b");
    symlinkSync("/nonexistent/agentmux", dangling);
    expect(thrown(() => secureBundleDir(dangling, { uid })).message).toContain("symbolic link");
  });

  it("4. checkOwner: a foreign artifact names path and both uids; a missing one passes; a symlink fails", () => {
    const dir = tempDir();
    const sock = join(dir, "relay.sock");
    expect(checkOwner(sock, uid)).toBeUndefined();
    writeFileSync(sock, "");
    expect(checkOwner(sock, uid)?.isFile()).toBe(true);
    chownSync(sock, FOREIGN_UID, FOREIGN_UID);
    const err = thrown(() => checkOwner(sock, uid));
    expect(err.code).toBe("runtime_insecure_path");
    expect(err.message).toBe(`runtime artifact ${sock} is owned by uid ${FOREIGN_UID}, expected uid ${uid}`);
    expect(err.details).toEqual({ path: sock, owner_uid: FOREIGN_UID, expected_uid: uid });
    const err2 = thrown(() => checkOwner(sock, FOREIGN_UID + 1));
    expect(err2.message).toContain(`expected uid ${FOREIGN_UID + 1}`);

    // lstat, not stat: a link we own pointing at someone's file is refused as a link.
    const link = join(dir, "relay.lock");
    symlinkSync(sock, link);
    const err3 = thrown(() => checkOwner(link, uid));
    expect(isRelayError(err3, "runtime_insecure_path")).toBe(true);
    expect(err3.message).toBe(`runtime artifact ${link} is a symbolic link`);
  });
});
