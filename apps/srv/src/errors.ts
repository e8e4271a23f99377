/** Stable codes of srv's own failures (the wire's error codes live in common-ipc). */
export type SrvErrorCode =
  | "config_invalid"
  | "socket_unsafe"
  | "socket_in_use"
  | "agent_meta_invalid"
  | "agent_not_running"
  | "dispatcher_failed"
  | "start_aborted";

/** Base class of srv's errors: a stable `code`, and the `cause` when there is one. */
export class SrvError extends Error {
  override readonly name: string = "SrvError";
  constructor(
    readonly code: SrvErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A bad flag or environment value: srv exits 2 with the reason and the usage. */
export class ConfigError extends SrvError {
  override readonly name = "ConfigError";
  constructor(message: string) {
    super("config_invalid", message);
  }
}

/** The Unix socket's directory is not safe to use (a symlink, not a directory, another user's). */
export class SocketUnsafeError extends SrvError {
  override readonly name = "SocketUnsafeError";
  constructor(message: string) {
    super("socket_unsafe", message);
  }
}

/** Another live server answers on the Unix socket path. */
export class SocketInUseError extends SrvError {
  override readonly name = "SocketInUseError";
  constructor(readonly path: string) {
    super("socket_in_use", `${path} is in use by a running server`);
  }
}

/** An agent block whose meta does not say how to run it (answered as `invalid_command`). */
export class AgentMetaError extends SrvError {
  override readonly name = "AgentMetaError";
  constructor(message: string) {
    super("agent_meta_invalid", message);
  }
}

/** An agent command for a block whose agent is not running (answered as `invalid_command`). */
export class AgentNotRunningError extends SrvError {
  override readonly name = "AgentNotRunningError";
  constructor(
    readonly blockId: string,
    why = "is not running",
  ) {
    super("agent_not_running", `agent ${blockId} ${why}`);
  }
}

/** The dispatcher could not bring its state back in line with the store and refuses further commands. */
export class DispatcherFailedError extends SrvError {
  override readonly name = "DispatcherFailedError";
  constructor(cause: unknown) {
    super("dispatcher_failed", "srv state could not be reloaded from the store; refusing further commands", { cause });
  }
}

/** A stop was asked for while srv was starting: startup stopped at the next step and undid what it had done. */
export class StartAbortedError extends SrvError {
  override readonly name = "StartAbortedError";
  constructor(reason: string) {
    super("start_aborted", `startup stopped: ${reason}`);
  }
}
