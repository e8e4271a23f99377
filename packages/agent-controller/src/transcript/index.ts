// The normalized transcript model, browser-safe: no Node, no dependencies.
export { type FormatOptions, formatCount, formatDuration, formatEvent, formatUsd } from "./format.js";
export { detectProvider, mergeDeltas, type NormalizedChunk, normalize, normalizeChunk, RAW_KEEP } from "./normalize.js";
export { summarizeTool } from "./summary.js";
export type {
  ErrorEvent,
  EventBase,
  JsonObject,
  NoticeEvent,
  NoticeLevel,
  PermissionRequestEvent,
  TextEvent,
  ThinkingEvent,
  ToolCallEvent,
  ToolResultEvent,
  TranscriptErrorKind,
  TranscriptEvent,
  TranscriptEventType,
  TranscriptProvider,
  TranscriptUsage,
  TurnEndEvent,
  UnknownEvent,
  UserEvent,
} from "./types.js";
/** Transcript offsets are UTF-8 byte offsets: the byte length of a string, without encoding it. */
export { utf8Length } from "./util.js";
