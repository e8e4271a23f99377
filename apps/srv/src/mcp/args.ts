/**
 * The MCP server's command line: which relay, and who this server speaks
 * as. srv writes these into each agent's MCP config; a wrong value is a bug
 * in that config, so it is refused at start (exit 2, the reason on stderr)
 * rather than discovered at the first tool call.
 */
import { parseArgs } from "node:util";
import { MAX_SOCKET_PATH_BYTES, RelayError, validateBundleName, validateSessionId } from "@agentmux/relay";
import { z } from "zod";
import { ConfigError } from "../errors.js";

export const MCP_USAGE = "usage: node mcp-main.js --socket <relay.sock> --bundle <name> --session <id>";

export interface McpArgs {
  readonly socketPath: string;
  readonly bundleName: string;
  readonly sessionId: string;
}

/** A relay name rule as a zod check, with the relay's message. */
function relayRule(check: (value: string) => unknown) {
  return (value: string, ctx: z.RefinementCtx): void => {
    try {
      check(value);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: err instanceof RelayError ? err.message : String(err) });
    }
  };
}

const Flags = z.strictObject({
  socket: z
    .string({ error: "--socket is required" })
    .min(1, "--socket must not be empty")
    .refine(
      (path) => Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES,
      `--socket is longer than ${MAX_SOCKET_PATH_BYTES} bytes, too long for a Unix socket`,
    ),
  bundle: z.string({ error: "--bundle is required" }).superRefine(relayRule(validateBundleName)),
  session: z.string({ error: "--session is required" }).superRefine(relayRule(validateSessionId)),
  help: z.boolean().optional(),
});

export type ParsedArgv = { readonly help: true } | { readonly help: false; readonly args: McpArgs };

/**
 * The argv srv writes into an agent's MCP config (after the path of
 * `dist/mcp-main.js`): the inverse of {@link parseMcpArgv}, so the flag
 * names live in this module only.
 */
export function formatMcpArgv(args: McpArgs): string[] {
  return ["--socket", args.socketPath, "--bundle", args.bundleName, "--session", args.sessionId];
}

/** Parses argv (without the node and script paths); throws `ConfigError` with a readable reason. */
export function parseMcpArgv(argv: readonly string[]): ParsedArgv {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        socket: { type: "string" },
        bundle: { type: "string" },
        session: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  if (values.help === true) return { help: true };
  const parsed = Flags.safeParse(values);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => issue.message).join("; "));
  }
  return {
    help: false,
    args: { socketPath: parsed.data.socket, bundleName: parsed.data.bundle, sessionId: parsed.data.session },
  };
}
