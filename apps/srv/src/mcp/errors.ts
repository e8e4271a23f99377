/**
 * How a failed tool call reaches the agent (relay.md §5): as a JSON-RPC
 * error, never as a successful result with `isError`, so an agent cannot
 * mistake a refused send for a delivered one. `data` always has the same
 * shape, `{code, message, details}`, with the relay's own code: a relay
 * error passes through unchanged, and the checks this server makes itself
 * use the relay's codes too, so an agent sees one vocabulary.
 */
import { RelayError, type RelayErrorDetails } from "@agentmux/relay";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";

/** The `data` of every error this server returns. */
export interface McpErrorData {
  readonly code: string;
  readonly message: string;
  readonly details: RelayErrorDetails;
}

/**
 * The JSON-RPC code for a relay code: the caller's fault (bad input, or a
 * request its policy forbids) is "invalid params"; anything else (relay
 * down, slow, or failing) is "internal error".
 */
export function jsonRpcCodeFor(code: string): number {
  return code.startsWith("validation_") || code === "authorization_forbidden"
    ? ErrorCode.InvalidParams
    : ErrorCode.InternalError;
}

/** The `{code, message, details}` of any failure (a non-relay error is a fault here: `runtime_internal`). */
export function errorDataOf(err: unknown): McpErrorData {
  if (err instanceof RelayError) return { code: err.code, message: err.message, details: err.details ?? {} };
  const message = err instanceof Error ? err.message : String(err);
  return { code: "runtime_internal", message: `the MCP server failed: ${message}`, details: {} };
}

/** The JSON-RPC error the SDK sends for `data`. */
export function toMcpError(data: McpErrorData): McpError {
  return new McpError(jsonRpcCodeFor(data.code), `${data.code}: ${data.message}`, data);
}
