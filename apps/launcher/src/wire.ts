// What the client needs of common-ipc at run time: framing and validating srv's events. A module
// of its own so that the client can load it while srv answers its first commands (see client.ts);
// building common-ipc's schemas is most of a verb's start-up.
export { decodeEvent, NdjsonDecoder } from "@agentmux/common-ipc";
