/**
 * Who is in the bundle, as the relay sees it. The relay asks again on every
 * hello and every request (relay.md §3.3: configuration is re-read each
 * time), so an edit to the bundle or policy files applies to the next
 * request without a restart. A file-backed directory (TOML config) lives
 * elsewhere; {@link staticDirectory} serves embedders and tests.
 */
import type { Controls } from "./policy.js";
import type { Transport } from "./transport.js";

/** A configured session of the bundle (an agent the relay can deliver to). */
export interface RelayMember {
  readonly id: string;
  /** Display name only: never accepted as an address. */
  readonly name?: string;
  readonly transport: Transport;
  /** Absent when the session's policy names no policy (requests → `validation_unknown_policy`). */
  readonly controls?: Controls;
  /** The policy id, reported in denials. */
  readonly policyRuleId?: string;
}

/** A configured UI session (`tui.toml`): it receives messages as stream events while connected. */
export interface RelayUi {
  readonly id: string;
  readonly name?: string;
  /** Absent when the UI's policy names no policy (hello → `validation_unknown_policy`). */
  readonly controls?: Controls;
  readonly policyRuleId?: string;
}

export interface RelayDirectorySnapshot {
  readonly members: readonly RelayMember[];
  readonly uis: readonly RelayUi[];
}

export interface RelayDirectory {
  /** The bundle as configured right now; may reject with a `RelayError` (e.g. an unreadable policy file). */
  load(): Promise<RelayDirectorySnapshot>;
}

/** A directory that never changes. */
export function staticDirectory(snapshot: RelayDirectorySnapshot): RelayDirectory {
  const frozen: RelayDirectorySnapshot = Object.freeze({
    members: Object.freeze([...snapshot.members]),
    uis: Object.freeze([...snapshot.uis]),
  });
  return { load: async () => frozen };
}

/** A session id resolved against a snapshot. */
export type ResolvedSession =
  | { readonly kind: "member"; readonly member: RelayMember }
  | { readonly kind: "ui"; readonly ui: RelayUi };

/**
 * Resolves a canonical session id: member ids first (a member wins over a UI
 * of the same id, §3.3), then UI ids. Display names never resolve.
 */
export function resolveSession(snapshot: RelayDirectorySnapshot, id: string): ResolvedSession | undefined {
  const member = snapshot.members.find((m) => m.id === id);
  if (member !== undefined) return { kind: "member", member };
  const ui = snapshot.uis.find((u) => u.id === id);
  return ui === undefined ? undefined : { kind: "ui", ui };
}
