/**
 * Every error the relay reports carries one of these codes. They are the
 * wire's `error.code` and the `code` a client library call rejects with.
 */
export const RELAY_ERROR_CODES = [
  // input that is wrong whoever sends it (checked before authorization)
  "validation_invalid_arguments",
  "validation_invalid_params",
  "validation_invalid_schema_version",
  "validation_missing_hello",
  "validation_stale_stream_binding",
  "validation_cross_bundle_unsupported",
  "validation_unknown_sender",
  "validation_unknown_target",
  "validation_unknown_policy",
  "validation_unknown_bundle",
  "validation_empty_targets",
  "validation_conflicting_targets",
  "validation_invalid_quiescence_timeout",
  "validation_invalid_acp_turn_timeout",
  "validation_conflicting_timeout_fields",
  "validation_invalid_timeout_field_for_transport",
  "validation_invalid_lines",
  "validation_invalid_policy_scope",
  "validation_invalid_bundle_name",
  "validation_invalid_session_id",
  "validation_invalid_configuration",
  "validation_socket_path_too_long",
  // the requester may not do this
  "authorization_forbidden",
  // the relay could not do it
  "runtime_identity_claim_conflict",
  "runtime_connection_queue_full",
  "runtime_transport_write_failed",
  "runtime_target_unavailable",
  "runtime_frame_too_large",
  "runtime_insecure_path",
  "runtime_home_unavailable",
  "runtime_lock_held",
  // the client could not reach a relay
  "relay_unavailable",
  "relay_timeout",
  "relay_autostart_disabled",
  "relay_startup_timeout",
  "relay_spawn_failure",
  // a fault inside the relay (a bug, a mailbox that failed): the request was not carried out
  "runtime_internal",
] as const;

export type RelayErrorCode = (typeof RELAY_ERROR_CODES)[number];

/** Structured facts about an error (e.g. `unknown_targets`, `capability`), sent as `error.details`. */
export type RelayErrorDetails = Record<string, unknown>;

export class RelayError extends Error {
  override readonly name = "RelayError";
  constructor(
    readonly code: RelayErrorCode,
    message: string,
    readonly details?: RelayErrorDetails,
  ) {
    super(message);
  }

  /** The wire form: `{ code, message, details? }`. */
  toJSON(): { code: RelayErrorCode; message: string; details?: RelayErrorDetails } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isRelayError(err: unknown, code?: RelayErrorCode): err is RelayError {
  return err instanceof RelayError && (code === undefined || err.code === code);
}

/** The message of anything thrown. */
export function errorMessageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
