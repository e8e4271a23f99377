/** Exit codes of every verb: 0 ok, 1 srv answered with an error (or a start failed), 2 usage, 3 srv not running. */
export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2, notRunning: 3 });

export type LauncherErrorCode =
  | "srv_not_found"
  | "srv_start_timeout"
  | "srv_migration_failed"
  | "srv_exited_before_ready"
  | "usage"
  | "not_running"
  | "srv_error";

/** A launcher failure with a stable `code`, the exit code it maps to, and a message that says what to do. */
export class LauncherError extends Error {
  override readonly name = "LauncherError";
  constructor(
    readonly code: LauncherErrorCode,
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}
