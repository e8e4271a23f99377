import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempDir } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import {
  ALLOWED_SCOPES,
  type AuthorizeRequest,
  authorize,
  BUILTIN_CONTROLS,
  type Capability,
  type Controls,
  effectivePolicyId,
  isRelayError,
  loadRelayConfig,
  type Policies,
  type RelayError,
  resolveControls,
  SCOPES,
  type Scope,
  writeStarterFiles,
} from "../src/index.js";

function controls(overrides: Partial<Controls>): Controls {
  return { ...BUILTIN_CONTROLS, ...overrides };
}

function denial(request: AuthorizeRequest): RelayError {
  try {
    authorize(request);
  } catch (err) {
    if (isRelayError(err)) return err;
    throw err;
  }
  throw new Error("authorize allowed the request");
}

/** A config dir with the starter files and this policies.toml. */
async function withPolicies(policiesToml: string): Promise<string> {
  const dir = tempDir("agentmux-relay-policy-");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "policies.toml"), policiesToml);
  await writeStarterFiles(dir);
  return dir;
}

function policyFile(controlLines: string): string {
  return `format-version = 1\n[[policies]]\nid = "p"\n[policies.controls]\nfind = "self"\nlist = "all:home"\nlook = "all:home"\nsend = "all:home"\n${controlLines}\n`;
}

async function loadError(dir: string): Promise<RelayError> {
  try {
    await loadRelayConfig({ configDir: dir, bundleName: "example" });
  } catch (err) {
    if (isRelayError(err)) return err;
    throw err;
  }
  throw new Error("loadRelayConfig succeeded");
}

describe("22. authorization (relay.md §3.6)", () => {
  it("22. a non-self look under look=self is authorization_forbidden with capability=look.inspect and target_session", () => {
    const err = denial({
      capability: "look.inspect",
      requester: "alice",
      bundleName: "dev",
      controls: controls({ look: "self" }),
      policyRuleId: "narrow",
      target: "bob",
    });
    expect(err.code).toBe("authorization_forbidden");
    expect(err.details).toEqual({
      capability: "look.inspect",
      requester_session: "alice",
      bundle_name: "dev",
      reason: expect.stringContaining("look scope self"),
      target_session: "bob",
      policy_rule_id: "narrow",
    });
  });

  it("22. raww into another session under raww=self is forbidden as raww.write", () => {
    const err = denial({
      capability: "raww.write",
      requester: "alice",
      bundleName: "dev",
      controls: controls({ raww: "self" }),
      target: "bob",
    });
    expect(err.code).toBe("authorization_forbidden");
    expect(err.details).toMatchObject({ capability: "raww.write", requester_session: "alice", target_session: "bob" });
    expect(err.details).not.toHaveProperty("policy_rule_id");
  });

  it("22. raww = all:all in policies.toml is validation_invalid_policy_scope at load", async () => {
    const err = await loadError(await withPolicies(policyFile('raww = "all:all"')));
    expect(err.code).toBe("validation_invalid_policy_scope");
    expect(err.message).toBe(
      'policies.toml: policies[0].controls.raww: "all:all" is not allowed (allowed: none, self, all:home)',
    );
    expect(err.details).toMatchObject({ policy_id: "p", control: "raww", scope: "all:all" });
  });

  it("22. a missing policies.toml fails every load (so every request)", async () => {
    const dir = tempDir("agentmux-relay-policy-");
    await writeStarterFiles(dir);
    await loadRelayConfig({ configDir: dir, bundleName: "example" });
    await rm(join(dir, "policies.toml"));
    const err = await loadError(dir);
    expect(err.code).toBe("validation_invalid_configuration");
    expect(err.message).toMatch(/^policies\.toml: /);
  });

  it.each([
    ["list", "self", policyFile("").replace('list = "all:home"', 'list = "self"')],
    ["send", "none", policyFile("").replace('send = "all:home"', 'send = "none"')],
    ["look", "everyone", policyFile("").replace('look = "all:home"', 'look = "everyone"')],
    ["find", "ALL:HOME", policyFile("").replace('find = "self"', 'find = "ALL:HOME"')],
    ["do.build", "all:some", policyFile('do = { build = "all:some" }')],
  ])("%s = %s is validation_invalid_policy_scope at load", async (control, value, toml) => {
    const err = await loadError(await withPolicies(toml));
    expect(err.code).toBe("validation_invalid_policy_scope");
    expect(err.details).toMatchObject({ control, scope: value });
  });

  it("loads allowed scopes, keeps do actions and leaves an omitted raww to the built-in", async () => {
    const dir = await withPolicies(policyFile('do = { build = "self" }'));
    const { policies } = await loadRelayConfig({ configDir: dir, bundleName: "example" });
    expect(policies).toEqual({
      policies: [
        {
          id: "p",
          controls: { find: "self", list: "all:home", look: "all:home", send: "all:home" },
          actions: { build: "self" },
        },
      ],
    });
    expect(resolveControls(policies, "p").raww).toBe("all:home");
  });

  describe("the §3.6 table, every capability × scope × self/other", () => {
    /** The table written out independently of `requiredScope`. */
    const allowed = (capability: Capability, granted: Scope, self: boolean): boolean => {
      const atLeastHome = granted === "all:home" || granted === "all:all";
      switch (capability) {
        case "list.read":
        case "send.deliver":
          return atLeastHome;
        case "look.inspect":
          return self || atLeastHome;
        case "raww.write":
          return self ? granted !== "none" : atLeastHome;
      }
    };
    const CONTROL_OF = {
      "list.read": "list",
      "send.deliver": "send",
      "look.inspect": "look",
      "raww.write": "raww",
    } as const;
    const cases = (["list.read", "send.deliver", "look.inspect", "raww.write"] as const).flatMap((capability) =>
      SCOPES.flatMap((granted) => [true, false].map((self) => ({ capability, granted, self }))),
    );

    it.each(cases)("$capability with $granted on self=$self", ({ capability, granted, self }) => {
      const control = CONTROL_OF[capability];
      const common = { requester: "alice", bundleName: "dev", controls: controls({ [control]: granted }) };
      const target = self ? "alice" : "bob";
      const request: AuthorizeRequest =
        capability === "list.read"
          ? { ...common, capability }
          : capability === "send.deliver"
            ? { ...common, capability, targets: [target] }
            : { ...common, capability, target };
      if (allowed(capability, granted, self)) {
        expect(() => authorize(request)).not.toThrow();
      } else {
        expect(denial(request).details).toMatchObject({ capability, requester_session: "alice", bundle_name: "dev" });
      }
    });
  });

  it("a denied send lists its targets", () => {
    const err = denial({
      capability: "send.deliver",
      requester: "alice",
      bundleName: "dev",
      controls: controls({ send: "self" }),
      targets: ["bob", "carol"],
    });
    expect(err.details).toMatchObject({ capability: "send.deliver", targets: ["bob", "carol"] });
    expect(err.details).not.toHaveProperty("target_session");
  });

  it("looking at oneself is allowed even under look=none", () => {
    expect(() =>
      authorize({
        capability: "look.inspect",
        requester: "alice",
        bundleName: "dev",
        controls: controls({ look: "none" }),
        target: "alice",
      }),
    ).not.toThrow();
  });
});

describe("resolveControls: own policy, else default, else built-in", () => {
  const p = (id: string, look: Scope, raww?: Scope) => ({
    id,
    controls: { find: "self" as const, list: "all:home" as const, look, send: "all:home" as const, raww },
    actions: {},
  });
  const policies: Policies = { default: "narrow", policies: [p("narrow", "self", "none"), p("wide", "all:all")] };

  it("uses the session's own policy", () => {
    expect(resolveControls(policies, "wide")).toEqual({ ...BUILTIN_CONTROLS, look: "all:all", raww: "all:home" });
    expect(effectivePolicyId(policies, "wide")).toBe("wide");
  });

  it("falls back to the file's default", () => {
    expect(resolveControls(policies, undefined)).toMatchObject({ look: "self", raww: "none" });
    expect(effectivePolicyId(policies, undefined)).toBe("narrow");
  });

  it("falls back to the built-in (look=all:home, find=self) with no default", () => {
    expect(resolveControls({ policies: [] }, undefined)).toEqual({
      find: "self",
      list: "all:home",
      look: "all:home",
      send: "all:home",
      raww: "all:home",
    });
    expect(effectivePolicyId({ policies: [] }, undefined)).toBeUndefined();
  });

  it("an unknown policy id (own or default) is validation_unknown_policy", () => {
    expect(() => resolveControls(policies, "ghost")).toThrowError(
      expect.objectContaining({
        code: "validation_unknown_policy",
        details: { policy_id: "ghost", known_policies: ["narrow", "wide"] },
      }),
    );
    expect(() => resolveControls({ default: "ghost", policies: [] }, undefined)).toThrowError(
      expect.objectContaining({ code: "validation_unknown_policy" }),
    );
  });

  it("the allowed scopes per control are those of the §3.6 table", () => {
    expect(ALLOWED_SCOPES).toEqual({
      find: ["none", "self", "all:home", "all:all"],
      list: ["all:home", "all:all"],
      look: ["none", "self", "all:home", "all:all"],
      send: ["all:home", "all:all"],
      raww: ["none", "self", "all:home"],
    });
  });
});
