import * as z from "zod/mini";
import { Command } from "./commands.js";
import { jsonTextDepth, jsonValueDepth, MAX_EVENT_LIST_JSON_DEPTH, MAX_JSON_DEPTH } from "./depth.js";
import { Event, type EventOf } from "./events.js";
import { literalValue } from "./literal.js";
import { zodEnglishErrors } from "./messages.js";
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

type Variant = z.core.$ZodType;

const commandVariants = new Map<string, Variant>(Command.def.options.map((o) => [literalValue(o.shape.cmd), o]));
const eventVariants = new Map<string, Variant>(Event.def.options.map((o) => [literalValue(o.shape.event), o]));

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

/** What differs between parsing commands and events. */
interface Vocabulary {
  tagKey: "cmd" | "event";
  variants: Map<string, Variant>;
  /** The deepest nesting a frame with this tag may have. */
  depthLimit(tag: unknown): number;
  /** Depth cut-off for a text scan, before the tag is known: the largest limit of any tag. */
  maxDepthLimit: number;
}

const commands: Vocabulary = {
  tagKey: "cmd",
  variants: commandVariants,
  depthLimit: () => MAX_JSON_DEPTH,
  maxDepthLimit: MAX_JSON_DEPTH,
};

const events: Vocabulary = {
  tagKey: "event",
  variants: eventVariants,
  // A catch-up page wraps each event two levels deeper; see MAX_EVENT_LIST_JSON_DEPTH.
  depthLimit: (tag) => (tag === "event_list" ? MAX_EVENT_LIST_JSON_DEPTH : MAX_JSON_DEPTH),
  maxDepthLimit: MAX_EVENT_LIST_JSON_DEPTH,
};

function tooDeep(limit: number): string {
  return `parse failed: JSON nested deeper than ${limit} levels`;
}

/**
 * Validates a decoded value. `knownDepth` is the depth a text scan already
 * measured (the decode entry points); without it the value is walked here.
 * Either way the depth is checked before zod runs, as its recursive schemas
 * would overflow the stack on a value nested thousands of levels deep.
 */
function parseTagged<T>(input: unknown, vocabulary: Vocabulary, knownDepth?: number): Parsed<T> {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return fail("parse failed: expected a JSON object");
  }
  const { tagKey, variants } = vocabulary;
  const record = input as Record<string, unknown>;
  // Reading the top-level req_id and tag is safe at any depth: neither recurses.
  const reqId = reqIdOf(record);
  const tag = record[tagKey];
  const limit = vocabulary.depthLimit(tag);
  const depth = knownDepth ?? jsonValueDepth(input, limit);
  if (depth > limit) {
    return fail(tooDeep(limit), reqId);
  }
  if (typeof tag !== "string") {
    return fail(`parse failed: missing "${tagKey}" tag`, reqId);
  }
  const schema = variants.get(tag);
  if (schema === undefined) {
    return fail(`parse failed: unknown ${tagKey} "${clip(tag, 64)}"`, reqId);
  }
  // English messages per call (zod/mini loads no locale), not through zod's global config.
  const result = z.safeParse(schema, input, { error: zodEnglishErrors });
  if (!result.success) {
    return fail(`parse failed: ${describeIssues(tag, result.error.issues)}`, reqId);
  }
  return { ok: true, value: result.data as T };
}

function fail<T>(message: string, reqId?: string): Parsed<T> {
  return { ok: false, error: new ProtocolError("invalid_command", message, reqId) };
}

/** Decodes one frame: depth scan of the text, `JSON.parse`, then validation. */
function decodeTagged<T>(frame: string, vocabulary: Vocabulary): Parsed<T> {
  // Scanned before parsing, so the parser never builds a value past the limit
  // (a 1 MiB frame of "[" would otherwise become a million nested arrays).
  const depth = jsonTextDepth(frame, vocabulary.maxDepthLimit);
  if (depth > vocabulary.maxDepthLimit) {
    return fail(tooDeep(vocabulary.maxDepthLimit));
  }
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch (err) {
    // Whatever the parser throws becomes a typed error. It cannot overflow on
    // nesting, even in an engine whose parser recurses: the scan above let no
    // more than maxDepthLimit levels through.
    return fail(`parse failed: invalid JSON (${clip((err as Error).message)})`);
  }
  return parseTagged<T>(value, vocabulary, depth);
}

/**
 * Validates an already-decoded JSON value as a {@link Command}. Never throws.
 * A value nested deeper than {@link MAX_JSON_DEPTH} is an `invalid_command` error.
 */
export function parseCommand(input: unknown): Parsed<Command> {
  return parseTagged<Command>(input, commands);
}

/**
 * Validates an already-decoded JSON value as an {@link Event}. Never throws.
 * A value nested deeper than {@link MAX_JSON_DEPTH} (`event_list`:
 * {@link MAX_EVENT_LIST_JSON_DEPTH}) is an `invalid_command` error.
 */
export function parseEvent(input: unknown): Parsed<Event> {
  return parseTagged<Event>(input, events);
}

/**
 * Parses one frame of text (one NDJSON line or one WebSocket text frame) into
 * a command. Never throws; the depth limit is checked on the text, before
 * `JSON.parse`.
 */
export function decodeCommand(frame: string): Parsed<Command> {
  return decodeTagged<Command>(frame, commands);
}

/** Parses one frame of text into an event. Never throws; depth as {@link parseEvent}. */
export function decodeEvent(frame: string): Parsed<Event> {
  return decodeTagged<Event>(frame, events);
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
