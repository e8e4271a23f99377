// The agent controller's guardian, for `start --host`: bundled on its own (see tsup.config.ts),
// never into the verbs' chunks. The controller's main entry brings classic zod and the ACP SDK
// along; in the split bundle they would share chunks with the zod/mini code every verb loads.
export { Guardian, processStartTime } from "@agentmux/agent-controller";
