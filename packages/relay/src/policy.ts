/**
 * Authorization (relay.md §3.6): a policy grants each control a scope, and a
 * request is allowed when the scope it needs is at most the one granted.
 * Pure: the caller supplies the requester (bound at hello, never read from
 * the payload) and the policies it just loaded.
 */
import { RelayError } from "./errors.js";

/** Ordered from narrowest to widest; the index is the rank. */
export const SCOPES = ["none", "self", "all:home", "all:all"] as const;
export type Scope = (typeof SCOPES)[number];

export const CONTROLS = ["find", "list", "look", "send", "raww"] as const;
export type Control = (typeof CONTROLS)[number];
export type Controls = Record<Control, Scope>;

/**
 * Which scopes a policy file may give each control. `list` and `send` below
 * `all:home` would only lock a session out of its own bundle, and `raww`
 * (raw keystrokes into another pane) may never reach other bundles, so those
 * values are refused when the file is loaded rather than silently clamped.
 */
export const ALLOWED_SCOPES: Readonly<Record<Control, readonly Scope[]>> = Object.freeze({
  find: SCOPES,
  list: ["all:home", "all:all"],
  look: SCOPES,
  send: ["all:home", "all:all"],
  raww: ["none", "self", "all:home"],
});

/** What a session may do when neither its own policy nor the file's `default` says otherwise. */
export const BUILTIN_CONTROLS: Readonly<Controls> = Object.freeze({
  find: "self",
  list: "all:home",
  look: "all:home",
  send: "all:home",
  raww: "all:home",
});

/** One `[[policies]]` entry as loaded (`raww` omitted means the built-in `raww`). */
export interface Policy {
  id: string;
  description?: string;
  controls: Omit<Controls, "raww"> & { raww?: Scope };
  /** `do` action → scope (the `do` tool is a proposal; kept so a file using it still loads). */
  actions: Record<string, Scope>;
}

/** `policies.toml` as loaded. */
export interface Policies {
  default?: string;
  policies: Policy[];
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

export function isControl(value: string): value is Control {
  return (CONTROLS as readonly string[]).includes(value);
}

export function scopeRank(scope: Scope): number {
  return SCOPES.indexOf(scope);
}

export function scopeAtLeast(granted: Scope, needed: Scope): boolean {
  return scopeRank(granted) >= scopeRank(needed);
}

/**
 * The policy id that governs a session: its own, else the file's `default`,
 * else undefined (the built-in controls). Report it as `policy_rule_id`.
 */
export function effectivePolicyId(policies: Policies, policyId: string | undefined): string | undefined {
  return policyId ?? policies.default;
}

/**
 * The controls of a session whose configured policy is `policyId`. A policy
 * id that names no policy is `validation_unknown_policy`: falling back to a
 * default would quietly widen or narrow what the operator configured.
 */
export function resolveControls(policies: Policies, policyId: string | undefined): Controls {
  const id = effectivePolicyId(policies, policyId);
  if (id === undefined) return { ...BUILTIN_CONTROLS };
  const policy = policies.policies.find((p) => p.id === id);
  if (policy === undefined) {
    throw new RelayError("validation_unknown_policy", `policy ${JSON.stringify(id)} is not defined in policies.toml`, {
      policy_id: id,
      known_policies: policies.policies.map((p) => p.id),
    });
  }
  return { ...policy.controls, raww: policy.controls.raww ?? BUILTIN_CONTROLS.raww };
}

export type Capability = "list.read" | "send.deliver" | "look.inspect" | "raww.write";

interface AuthorizeCommon {
  /** The identity bound at hello. */
  requester: string;
  bundleName: string;
  controls: Controls;
  /** Reported in a denial so the operator knows which policy to edit. */
  policyRuleId?: string;
}

export type AuthorizeRequest =
  | (AuthorizeCommon & { capability: "list.read" })
  | (AuthorizeCommon & { capability: "send.deliver"; targets: readonly string[] })
  | (AuthorizeCommon & { capability: "look.inspect" | "raww.write"; target: string });

const CAPABILITY_CONTROL: Readonly<Record<Capability, Control>> = Object.freeze({
  "list.read": "list",
  "send.deliver": "send",
  "look.inspect": "look",
  "raww.write": "raww",
});

/**
 * The scope a request needs (§3.6 table). Looking at oneself needs nothing;
 * raw input into one's own pane needs `self`; anything touching another
 * session of the bundle needs `all:home`.
 */
export function requiredScope(request: AuthorizeRequest): Scope {
  switch (request.capability) {
    case "list.read":
    case "send.deliver":
      return "all:home";
    case "look.inspect":
      return request.target === request.requester ? "none" : "all:home";
    case "raww.write":
      return request.target === request.requester ? "self" : "all:home";
  }
}

/** Returns when allowed; throws `authorization_forbidden` with the §3.6 details otherwise. */
export function authorize(request: AuthorizeRequest): void {
  const control = CAPABILITY_CONTROL[request.capability];
  const granted = request.controls[control];
  const needed = requiredScope(request);
  if (scopeAtLeast(granted, needed)) return;

  const reason = `${control} scope ${granted} does not allow this; it needs ${needed} or wider`;
  const details: Record<string, unknown> = {
    capability: request.capability,
    requester_session: request.requester,
    bundle_name: request.bundleName,
    reason,
  };
  if ("target" in request) details.target_session = request.target;
  if ("targets" in request) details.targets = [...request.targets];
  if (request.policyRuleId !== undefined) details.policy_rule_id = request.policyRuleId;
  const what = "target" in request ? `${request.capability} on ${request.target}` : request.capability;
  throw new RelayError("authorization_forbidden", `${request.requester} may not ${what}: ${reason}`, details);
}
