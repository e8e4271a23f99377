/** Every error this package throws has a stable `code`. */
export type AgentErrorCode = "queue_full" | "session_held" | "session_closed" | "unknown_request" | "not_supported";

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string) {
    super(message);
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
