/**
 * The four tools an agent gets (relay.md §5: `list`, `help`, `look`,
 * `send`; `raww`, raw keystrokes into another pane, is deliberately not
 * offered to agents): their input schemas, their descriptions, and the
 * checks made here before anything reaches the relay.
 *
 * Why check locally what the relay checks anyway: an agent's mistake is
 * answered at once, with the relay's own code, even while the relay is down
 * (a send with no targets is `validation_empty_targets`, not
 * `relay_unavailable`). The order is the relay's (§3.3), so the first
 * complaint is the one the relay would have made.
 *
 * The sender is never an input. The server acts as the identity it was
 * started with; a field that looks like an attempt to name another sender
 * is refused by name, and any other unknown field by the strict schemas.
 */
import { RELAY_REQUEST_ID_MAX_LENGTH, type RelayDeliveryMode } from "@agentmux/common-ipc";
import { checkChatInput, RELAY_CORE_DEFAULTS, RelayError } from "@agentmux/relay";
import { z } from "zod";

export const TOOL_NAMES = ["list", "help", "look", "send"] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** What `help` answers about (none means the inventory). */
export const HELP_QUERIES = ["agentmux", "list", "list.sessions", "send", "look"] as const;
export type HelpQuery = (typeof HELP_QUERIES)[number];

/** The MCP tool and CLI default (the relay's own default is sync): an agent should not block on a busy peer. */
export const MCP_DEFAULT_DELIVERY_MODE = "async" as const;

/** The relay's delivery modes (the wire's enum, restated so the tool's schema is plain zod). */
const DELIVERY_MODES = ["sync", "async"] as const satisfies readonly RelayDeliveryMode[];

const TimeoutMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const ListInput = z.strictObject({
  command: z.literal("sessions").describe('What to list; only "sessions" (the sessions of this bundle).'),
  args: z
    .strictObject({
      bundle_name: z.string().optional().describe("Only this server's own bundle can be listed."),
      all: z.boolean().optional().describe("Every bundle this server reaches (its own)."),
    })
    .optional(),
});
export type ListInput = z.infer<typeof ListInput>;

export const HelpInput = z.strictObject({
  query: z.enum(HELP_QUERIES).optional().describe("A tool to explain; omit for the list of tools."),
});
export type HelpInput = z.infer<typeof HelpInput>;

export const LookInput = z.strictObject({
  target_session: z.string().describe("The session id to look at."),
  lines: z
    .number()
    .optional()
    .describe(
      `How many recent lines (${RELAY_CORE_DEFAULTS.lookLinesMin}..${RELAY_CORE_DEFAULTS.lookLinesMax}, default ${RELAY_CORE_DEFAULTS.lookLines}).`,
    ),
});
export type LookInput = z.infer<typeof LookInput>;

export const SendInput = z.strictObject({
  message: z.string().describe("The message text."),
  targets: z.array(z.string()).default([]).describe("Session ids to send to (or set broadcast)."),
  broadcast: z.boolean().default(false).describe("Send to every other session of the bundle."),
  delivery_mode: z
    .enum(DELIVERY_MODES)
    .default(MCP_DEFAULT_DELIVERY_MODE)
    .describe("async: answer once the relay accepted it; sync: wait for every target's outcome."),
  quiescence_timeout_ms: TimeoutMs.optional().describe(
    "Pane targets: give up waiting for a quiet pane after this long.",
  ),
  acp_turn_timeout_ms: TimeoutMs.optional().describe("Turn-based targets: give up on the turn after this long."),
  request_id: z
    .string()
    .min(1)
    .max(RELAY_REQUEST_ID_MAX_LENGTH)
    .optional()
    .describe("Your id for this send, echoed in the response."),
});
export type SendInput = z.infer<typeof SendInput>;

/** A tool call whose arguments passed every local check. */
export type ToolCall =
  | { readonly tool: "list"; readonly input: ListInput }
  | { readonly tool: "help"; readonly input: HelpInput }
  | { readonly tool: "look"; readonly input: LookInput }
  | { readonly tool: "send"; readonly input: SendInput };

export interface ToolDefinition {
  readonly name: ToolName;
  readonly description: string;
  readonly schema: z.ZodType;
  /** A valid `arguments` object, shown by `help`. */
  readonly example: Record<string, unknown>;
  readonly readOnly: boolean;
}

export const TOOLS: Readonly<Record<ToolName, ToolDefinition>> = Object.freeze({
  list: {
    name: "list",
    description: "List the sessions of your bundle (the agents you can message). Answers the relay's JSON.",
    schema: ListInput,
    example: { command: "sessions" },
    readOnly: true,
  },
  help: {
    name: "help",
    description: `Explain the agentmux tools: no query lists them; query ${HELP_QUERIES.map((q) => `"${q}"`).join(", ")} gives one tool's argument schema and an example.`,
    schema: HelpInput,
    example: { query: "send" },
    readOnly: true,
  },
  look: {
    name: "look",
    description: "Show the recent output of another session of your bundle (if your policy allows it).",
    schema: LookInput,
    example: { target_session: "reviewer", lines: 40 },
    readOnly: true,
  },
  send: {
    name: "send",
    description:
      "Send a message to other sessions of your bundle, as yourself. Async by default (answers once accepted); sync waits for each target's outcome.",
    schema: SendInput,
    example: { message: "can you review my branch?", targets: ["reviewer"], delivery_mode: "async" },
    readOnly: false,
  },
});

export function isToolName(name: string): name is ToolName {
  return (TOOL_NAMES as readonly string[]).includes(name);
}

/**
 * Field names that would name a sender or requester. Compared without case
 * or separators, so `senderSession`, `Sender-Session` and `sender_session`
 * are all caught; prefixes catch `from_agent`, `sender_display_name`, ….
 */
const SENDER_LIKE_PREFIXES = ["sender", "from", "requester", "author", "origin", "onbehalf", "impersonat"] as const;
const SENDER_LIKE_NAMES: ReadonlySet<string> = new Set([
  "as",
  "assession",
  "session",
  "sessionid",
  "sessionname",
  "identity",
  "principal",
  "user",
  "caller",
]);

export function isSenderLike(field: string): boolean {
  const key = field.toLowerCase().replace(/[^a-z0-9]/g, "");
  return SENDER_LIKE_NAMES.has(key) || SENDER_LIKE_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/**
 * Validates a tool's arguments: sender-like fields, then the schema, then
 * the relay's own checks in its order. Throws a `RelayError` with the code
 * the relay would use.
 */
export function parseToolCall(name: string, args: unknown, sessionId: string): ToolCall {
  if (!isToolName(name)) {
    throw new RelayError("validation_invalid_params", `unknown tool ${JSON.stringify(name)}`, {
      tool: name,
      tools: [...TOOL_NAMES],
    });
  }
  if (typeof args === "object" && args !== null && !Array.isArray(args)) {
    const senderLike = Object.keys(args).filter(isSenderLike);
    if (senderLike.length > 0) {
      throw new RelayError(
        "validation_invalid_params",
        `${senderLike.join(", ")}: the sender is always this server's identity (${sessionId}) and cannot be given`,
        { tool: name, fields: senderLike, bound_session: sessionId },
      );
    }
  }
  switch (name) {
    case "list":
      return { tool: name, input: checkList(parseWith(name, ListInput, args)) };
    case "help":
      return { tool: name, input: parseWith(name, HelpInput, args) };
    case "look":
      return { tool: name, input: checkLook(parseWith(name, LookInput, args)) };
    case "send":
      return { tool: name, input: checkSend(parseWith(name, SendInput, args)) };
  }
}

function parseWith<T>(tool: ToolName, schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
  }));
  const first = issues[0];
  const where = first === undefined || first.path === "" ? "" : `${first.path}: `;
  throw new RelayError(
    "validation_invalid_params",
    `invalid arguments for ${tool}: ${where}${first?.message ?? "invalid input"}`,
    { tool, issues },
  );
}

function checkList(input: ListInput): ListInput {
  if (input.args?.bundle_name !== undefined && input.args.all !== undefined) {
    throw new RelayError("validation_invalid_params", "args.bundle_name and args.all are mutually exclusive", {
      tool: "list",
    });
  }
  return input;
}

function checkLook(input: LookInput): LookInput {
  if (input.target_session === "") {
    throw new RelayError("validation_unknown_target", "target_session must name a session", { target_session: "" });
  }
  const { lookLinesMin: min, lookLinesMax: max } = RELAY_CORE_DEFAULTS;
  if (input.lines !== undefined && (!Number.isInteger(input.lines) || input.lines < min || input.lines > max)) {
    throw new RelayError("validation_invalid_lines", `lines must be an integer from ${min} to ${max}`, {
      lines: input.lines,
      min,
      max,
    });
  }
  return input;
}

/** The relay's chat checks (§3.3) up to where it needs the bundle's configuration: the relay's own. */
function checkSend(input: SendInput): SendInput {
  checkChatInput(input);
  return input;
}
