/** Every error this package throws (or reports in a session's fault) has a stable `code`. */
export type AgentErrorCode =
  | "queue_full"
  | "session_held"
  | "session_closed"
  | "unknown_request"
  | "not_supported"
  | SpawnErrorCode;

/**
 * Why an agent could not be started: `command_not_found` (no such executable, on PATH or at the
 * path given), `command_not_executable` (found, but not something this user may run: EACCES),
 * `spawn_failed` (anything else: a missing working directory, a missing interpreter, no memory).
 */
export type SpawnErrorCode = "command_not_found" | "command_not_executable" | "spawn_failed";

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AgentError";
    this.code = code;
  }
}

/** The deferred send queue is full (a backlog this long means the agent is not taking input). */
export class QueueFullError extends AgentError {
  constructor(readonly cap: number) {
    super("queue_full", `the agent's send queue is full (${cap} messages waiting); try again after it catches up`);
  }
}

/** Another live process (or one still shutting down) already holds this conversation. */
export class SessionHeldError extends AgentError {
  constructor(readonly sessionId: string) {
    super("session_held", `session ${sessionId} is already open in another agent (or still shutting down)`);
  }
}

/** The session was closed; it takes no more input. */
export class SessionClosedError extends AgentError {
  constructor() {
    super("session_closed", "the agent session is closed");
  }
}

/**
 * The agent's executable could not be started. The message names the executable and, when it was
 * looked up on PATH, the PATH of the environment the agent was given (not this process's). A
 * session reports it in its status (`fault.code`, `fault.message`); `cause` is the system error.
 */
export class AgentSpawnError extends AgentError {
  constructor(
    code: SpawnErrorCode,
    message: string,
    /** The executable as the session was told to run it. */
    readonly command: string,
    /** The PATH that was searched; null when the command is a path (nothing was searched). */
    readonly searchedPath: string | null,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = "AgentSpawnError";
  }
}
