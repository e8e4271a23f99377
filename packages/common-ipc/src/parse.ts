import type { z } from "zod";
import { Command } from "./commands.js";
import { Event, type EventOf } from "./events.js";
import { type ErrorCode, ReqId } from "./primitives.js";

/** A protocol-level failure with a stable wire `code`. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The offending frame's `req_id`, when it had a valid one (so a reply can echo it). */
    readonly reqId?: string,
  ) {
    super(message);
  }
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

type Variant = z.ZodType;

const commandVariants = new Map<string, Variant>(Command.options.map((o) => [o.shape.cmd.value, o]));
const eventVariants = new Map<string, Variant>(Event.options.map((o) => [o.shape.event.value, o]));

const MAX_ISSUES = 3;

function clip(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function describeIssues(tag: string, issues: readonly z.core.$ZodIssue[]): string {
  const parts = issues.slice(0, MAX_ISSUES).map((issue) => {
    const path = issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
    return `${path}${issue.message}`;
  });
  const more = issues.length > MAX_ISSUES ? ` (+${issues.length - MAX_ISSUES} more)` : "";
  return `${tag}: ${parts.join("; ")}${more}`;
}

function reqIdOf(input: Record<string, unknown>): string | undefined {
  const r = ReqId.safeParse(input.req_id);
  return r.success ? r.data : undefined;
}

function parseTagged<T>(input: unknown, tagKey: "cmd" | "event", variants: Map<string, Variant>): Parsed<T> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return fail("parse failed: expected a JSON object");
  }
  const record = input as Record<string, unknown>;
  const reqId = reqIdOf(record);
  const tag = record[tagKey];
  if (typeof tag !== "string") {
    return fail(`parse failed: missing "${tagKey}" tag`, reqId);
  }
  const schema = variants.get(tag);
  if (schema === undefined) {
    return fail(`parse failed: unknown ${tagKey} "${clip(tag, 64)}"`, reqId);
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    return fail(`parse failed: ${describeIssues(tag, result.error.issues)}`, reqId);
  }
  return { ok: true, value: result.data as T };
}

function fail<T>(message: string, reqId?: string): Parsed<T> {
  return { ok: false, error: new ProtocolError("invalid_command", message, reqId) };
}

function parseJson(text: string): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return fail(`parse failed: invalid JSON (${clip((err as Error).message)})`);
  }
}

/** Validates an already-decoded JSON value as a {@link Command}. Never throws. */
export function parseCommand(input: unknown): Parsed<Command> {
  return parseTagged<Command>(input, "cmd", commandVariants);
}

/** Validates an already-decoded JSON value as an {@link Event}. Never throws. */
export function parseEvent(input: unknown): Parsed<Event> {
  return parseTagged<Event>(input, "event", eventVariants);
}

/** Parses one frame of text (one NDJSON line or one WebSocket text frame) into a command. */
export function decodeCommand(frame: string): Parsed<Command> {
  const json = parseJson(frame);
  return json.ok ? parseCommand(json.value) : json;
}

/** Parses one frame of text into an event. */
export function decodeEvent(frame: string): Parsed<Event> {
  const json = parseJson(frame);
  return json.ok ? parseEvent(json.value) : json;
}

/** The wire text of one command or event, without the trailing newline. */
export function serialize(message: Command | Event): string {
  return JSON.stringify(message);
}

/**
 * An `error` event. Connection-private errors keep `version: 0` (they are
 * never on the bus); the reducer gives broadcast errors a real version.
 */
export function errorEvent(
  code: ErrorCode,
  message: string,
  opts: { fatal?: boolean; version?: number; reqId?: string | undefined } = {},
): EventOf<"error"> {
  const ev: EventOf<"error"> = {
    event: "error",
    code,
    message,
    fatal: opts.fatal ?? false,
    version: opts.version ?? 0,
  };
  if (opts.reqId !== undefined) ev.req_id = opts.reqId;
  return ev;
}

/** The private `error` event answering a {@link ProtocolError}. */
export function protocolErrorEvent(err: ProtocolError, fatal = false): EventOf<"error"> {
  return errorEvent(err.code, err.message, { fatal, reqId: err.reqId });
}
