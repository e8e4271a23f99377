import { loadRelayConfig, type RelayConfig } from "./config.js";
import type { RelayDirectory, RelayDirectorySnapshot, RelayMember, RelayUi } from "./directory.js";
import { RelayError } from "./errors.js";
import { type Controls, effectivePolicyId, resolveControls } from "./policy.js";
import type { TmuxTarget } from "./tmux.js";
import type { Delivery, DeliveryOutcome, LookSnapshot, Transport } from "./transport.js";

export interface FileDirectoryOptions {
  configDir: string;
  bundleName: string;
  /** The transport of the bundle's tmux sessions (one tmux server per bundle), e.g. a `TmuxTransport` built with {@link tmuxTargetOf}. */
  tmux: Transport;
  /** The transport of the bundle's ACP sessions; absent: their deliveries fail with `runtime_target_unavailable`. */
  acp?: Transport;
  /** Called with each configuration loaded (e.g. {@link tmuxTargets}' `update`). */
  onLoad?: (config: RelayConfig) => void;
}

/**
 * The bundle as its TOML files say (relay.md §4), read again on every call:
 * members from `bundles/<bundle>.toml` with the transport of their coder,
 * UIs from `tui.toml`, controls from `policies.toml`. A session whose policy
 * names no policy gets no controls, so the relay answers it with
 * `validation_unknown_policy` instead of guessing.
 */
export function fileDirectory(options: FileDirectoryOptions): RelayDirectory {
  return {
    load: async () => {
      const config = await loadRelayConfig(options);
      options.onLoad?.(config);
      return snapshotOf(config, options);
    },
  };
}

function snapshotOf(config: RelayConfig, options: FileDirectoryOptions): RelayDirectorySnapshot {
  const members: RelayMember[] = config.bundle.sessions.map((session) => {
    const coder = config.coders.find((c) => c.id === session.coder);
    const transport = coder?.transport === "acp" ? (options.acp ?? unavailable("acp")) : options.tmux;
    return withPolicy({ id: session.id, ...named(session.name), transport }, config, session.policy);
  });
  const uis: RelayUi[] = config.tui.sessions.map((ui) =>
    withPolicy({ id: ui.id, ...named(ui.name) }, config, ui.policy),
  );
  return { members, uis };
}

function named(name: string | undefined): { name?: string } {
  return name === undefined ? {} : { name };
}

function withPolicy<T extends object>(
  base: T,
  config: RelayConfig,
  policyId: string | undefined,
): T & { controls?: Controls; policyRuleId?: string } {
  const ruleId = effectivePolicyId(config.policies, policyId);
  let controls: Controls | undefined;
  try {
    controls = resolveControls(config.policies, policyId);
  } catch (err) {
    if (!(err instanceof RelayError && err.code === "validation_unknown_policy")) throw err;
  }
  return { ...base, ...(controls ? { controls } : {}), ...(ruleId === undefined ? {} : { policyRuleId: ruleId }) };
}

/**
 * How a tmux transport finds a bundle session's pane and its prompt, from the
 * same files: the tmux session is named after the session id (relay.md §1).
 * Give `resolveTarget` to the `TmuxTransport` and `update` to
 * {@link fileDirectory}'s `onLoad`: every request then delivers by the
 * configuration it was checked against.
 */
export function tmuxTargets(): {
  resolveTarget: (session: string) => TmuxTarget | undefined;
  update: (config: RelayConfig) => void;
} {
  let config: RelayConfig | undefined;
  return {
    update: (loaded) => {
      config = loaded;
    },
    resolveTarget: (session) => (config ? tmuxTargetOf(config, session) : undefined),
  };
}

/** The tmux target of one bundle session, or undefined when it is not a tmux session of the bundle. */
export function tmuxTargetOf(config: RelayConfig, sessionId: string): TmuxTarget | undefined {
  const session = config.bundle.sessions.find((s) => s.id === sessionId);
  const coder = session && config.coders.find((c) => c.id === session.coder);
  if (coder?.transport !== "tmux") return undefined;
  const { promptRegex, promptInspectLines, promptIdleColumn } = coder.tmux;
  return {
    tmuxSession: sessionId,
    ...(promptRegex === undefined ? {} : { promptRegex: new RegExp(promptRegex) }),
    ...(promptInspectLines === undefined ? {} : { promptInspectLines }),
    ...(promptIdleColumn === undefined ? {} : { promptIdleColumn }),
  };
}

/** A transport for a kind this relay cannot reach: every delivery fails, clearly. */
function unavailable(kind: string): Transport {
  const why = `no ${kind} transport is configured in this relay`;
  return {
    kind,
    deliver: async (_d: Delivery): Promise<DeliveryOutcome> => ({
      outcome: "failed",
      reasonCode: "runtime_target_unavailable",
      reason: why,
    }),
    look: async (): Promise<LookSnapshot> => {
      throw new RelayError("runtime_target_unavailable", why);
    },
  };
}
