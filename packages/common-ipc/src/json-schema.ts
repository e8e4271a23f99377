import * as z from "zod/mini";
import { Command } from "./commands.js";
import { MAX_EVENT_LIST_JSON_DEPTH, MAX_JSON_DEPTH } from "./depth.js";
import { BusEvent, Event } from "./events.js";
import { JsonValue, LayoutNode } from "./primitives.js";

type JsonSchema = z.core.JSONSchema.BaseSchema;

/** Names for the recursive types, so the files read `#/$defs/LayoutNode` rather than generated names. */
function namedDefinitions() {
  const registry = z.registry<{ id: string }>();
  registry.add(JsonValue, { id: "JsonValue" });
  registry.add(LayoutNode, { id: "LayoutNode" });
  registry.add(BusEvent, { id: "BusEvent" });
  return registry;
}

function toSchema(schema: z.core.$ZodType, title: string, description: string): JsonSchema {
  return {
    ...z.toJSONSchema(schema, { io: "input", target: "draft-2020-12", cycles: "ref", metadata: namedDefinitions() }),
    title,
    description,
  };
}

/** JSON Schema (draft 2020-12) of every command a client may send, as written on the wire. */
export function commandJsonSchema(): JsonSchema {
  return toSchema(
    Command,
    "agentmux Command",
    `One command frame sent to agentmux srv. Objects and arrays nest at most ${MAX_JSON_DEPTH} levels deep.`,
  );
}

/** JSON Schema (draft 2020-12) of every event srv may send. */
export function eventJsonSchema(): JsonSchema {
  return toSchema(
    Event,
    "agentmux Event",
    `One event frame sent by agentmux srv. Objects and arrays nest at most ${MAX_JSON_DEPTH} levels deep (an event_list frame ${MAX_EVENT_LIST_JSON_DEPTH}).`,
  );
}

/** The committed schema files, by file name, as their exact text. */
export function jsonSchemaFiles(): Record<string, string> {
  return {
    "command.schema.json": `${JSON.stringify(commandJsonSchema(), null, 2)}\n`,
    "event.schema.json": `${JSON.stringify(eventJsonSchema(), null, 2)}\n`,
  };
}
