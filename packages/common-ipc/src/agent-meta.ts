import * as z from "zod/mini";
import { AgentUsage } from "./primitives.js";

/**
 * Bounds on `agent:env`, the variables a block adds to its agent's
 * environment. Keys are portable shell names; `AGENTMUX_*` belongs to srv
 * (it passes its own settings to agents and their tools that way), so a block
 * can neither set nor override one.
 */
export const AGENT_ENV_LIMITS = Object.freeze({
  maxKeys: 256,
  /** Per value, in UTF-8 bytes. */
  maxValueBytes: 32 * 1024,
  keyPattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
  reservedPrefix: "AGENTMUX_",
});

export const AGENT_PROVIDERS = ["claude", "codex", "gemini", "acp"] as const;
export type AgentProvider = (typeof AGENT_PROVIDERS)[number];

/** UTF-8 length of `text` without encoding it (a lone surrogate counts 3, as the encoder writes U+FFFD). */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Quotes a key for a message, clipped so a huge key cannot blow up the error. */
function quoteKey(key: string): string {
  return JSON.stringify(key.length <= 64 ? key : `${key.slice(0, 64)}…`);
}

const AgentEnv = z
  .record(z.string(), z.string({ error: "agent:env values must be strings" }), {
    error: "agent:env must be an object of strings",
  })
  .check(
    z.superRefine((env: Record<string, string>, ctx) => {
      const { maxKeys, maxValueBytes, keyPattern, reservedPrefix } = AGENT_ENV_LIMITS;
      const keys = Object.keys(env);
      if (keys.length > maxKeys) {
        ctx.addIssue({ code: "custom", message: `agent:env has ${keys.length} variables (at most ${maxKeys})` });
      }
      for (const key of keys) {
        const value = env[key] ?? "";
        if (key.startsWith(reservedPrefix)) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `agent:env: ${quoteKey(key)} is reserved: variables starting with ${reservedPrefix} are srv's own`,
          });
        } else if (!keyPattern.test(key)) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `agent:env: ${quoteKey(key)} is not a valid variable name (letters, digits and _, not starting with a digit)`,
          });
        }
        // Cheap bound first: a value of at most maxValueBytes / 3 UTF-16 units cannot exceed the byte limit.
        if (value.length > maxValueBytes / 3 && utf8Bytes(value) > maxValueBytes) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `agent:env: ${quoteKey(key)} is longer than ${maxValueBytes} bytes`,
          });
        }
        // A NUL cannot be passed in an environment; spawning would fail later, far from the cause.
        if (value.includes("\0")) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: `agent:env: ${quoteKey(key)} contains a NUL character`,
          });
        }
      }
    }),
  );

/** `~` or `~/…` (srv expands it to the home directory) or an absolute path. */
function isAgentCwd(path: string): boolean {
  return path.startsWith("/") || path === "~" || path.startsWith("~/");
}

/**
 * What makes a block an agent: the `view` and `agent:*` keys of its meta,
 * plus the `session:*` keys srv writes back. Other keys pass through
 * untouched (it is a loose object: a block's meta holds more than this).
 *
 * Every message names its key, so the first issue alone is a usable error.
 * srv reads a block's meta through this schema when the agent is first used.
 */
export const AgentBlockMeta = z.looseObject({
  view: z.literal("agent", { error: 'not an agent block (its meta needs view: "agent")' }),
  "agent:provider": z.enum(AGENT_PROVIDERS, {
    error: (issue) =>
      issue.input === undefined
        ? "agent:provider is required"
        : `agent:provider must be one of ${AGENT_PROVIDERS.join(", ")}`,
  }),
  /** Where the agent runs: an absolute path, `~` or `~/…`. */
  "agent:cwd": z
    .string({
      error: (issue) => (issue.input === undefined ? "agent:cwd is required" : "agent:cwd must be a string"),
    })
    .check(z.refine(isAgentCwd, { error: 'agent:cwd must be an absolute path, "~" or start with "~/"' })),
  "agent:name": z.optional(
    z
      .string({ error: "agent:name must be a string" })
      .check(
        z.minLength(1, { error: "agent:name must not be empty" }),
        z.maxLength(200, { error: "agent:name must be at most 200 characters" }),
      ),
  ),
  /** The executable (default: the provider's command on PATH; required for acp). */
  "agent:command": z.optional(
    z
      .string({ error: "agent:command must be a string" })
      .check(z.minLength(1, { error: "agent:command must not be empty" })),
  ),
  "agent:args": z.optional(
    z.array(z.string({ error: "agent:args must be an array of strings" }), {
      error: "agent:args must be an array of strings",
    }),
  ),
  "agent:permissions": z.optional(z.enum(["ask", "skip"], { error: "agent:permissions must be ask or skip" })),
  /** Variables added to the agent's environment; see {@link AGENT_ENV_LIMITS}. */
  "agent:env": z.optional(AgentEnv),
  "session:id": z.optional(z.nullable(z.string().check(z.minLength(1, { error: "session:id must not be empty" })))),
  "session:usage": z.optional(z.nullable(AgentUsage)),
});
export type AgentBlockMeta = z.infer<typeof AgentBlockMeta>;
