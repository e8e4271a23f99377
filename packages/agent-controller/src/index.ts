export { ACP_PROTOCOL_VERSION, AcpSession } from "./acp-session.js";
export { ConversationClaims, createSession } from "./controller.js";
export {
  AgentError,
  type AgentErrorCode,
  AgentSpawnError,
  QueueFullError,
  SessionClosedError,
  SessionHeldError,
  type SpawnErrorCode,
} from "./errors.js";
export type { SessionFault } from "./faults.js";
export { GUARDIAN_SCRIPT, Guardian, type GuardianOptions, type GuardianReplaced } from "./guardian.js";
export { NdjsonSession } from "./ndjson-session.js";
export {
  isAlive,
  type ProcessRecord,
  processStartTime,
  type ReapOptions,
  type ReapOutcome,
  reapOrphan,
  signalGroup,
} from "./process.js";
export { type AcpOptions, acp, gemini } from "./providers/acp.js";
export { type ClaudeOptions, claude } from "./providers/claude.js";
export { codex, type PerTurnOptions } from "./providers/codex.js";
export {
  type AcpProvider,
  type AgentFault,
  addUsage,
  classifyErrorText,
  type LineMeaning,
  type NdjsonProvider,
  type PermissionDecision,
  type PermissionRequest,
  type Provider,
  type Usage,
  ZERO_USAGE,
} from "./providers/types.js";
export {
  type OutputLine,
  type RunStatus,
  Session,
  type SessionClaims,
  type SessionOptions,
  type SessionStatus,
  type StopDeadlines,
  type StopOptions,
  type StopOutcome,
} from "./session.js";
export { DEFAULT_STDERR_LIMITS, type StderrLimits } from "./stderr.js";
// The normalized transcript model; also its own browser-safe subpath, `@agentmux/agent-controller/transcript`.
export * as transcript from "./transcript/index.js";
