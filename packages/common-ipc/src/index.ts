export * from "./commands.js";
export * from "./events.js";
export * from "./json-schema.js";
export * from "./ndjson.js";
export * from "./parse.js";
export * from "./primitives.js";
export * from "./stderr.js";
