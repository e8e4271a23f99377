// @agentmux/testkit: what agentmux's test suites share. Private; imported by tests only (it
// registers vitest hooks when imported, see ./cleanup.ts). Layers point down: the testkit may
// use any package, and no package's src may import it.
export { claudeAcpBinary, claudeAcpEnv, claudeBinary, claudeEnv } from "./claude-cli.js";
export { type Cleanup, onCleanup, tempDir } from "./cleanup.js";
export { codexBinary, codexEnv } from "./codex-cli.js";
export { type ContentBlock, type FakeAnthropic, type MessagesRequest, startFakeAnthropic } from "./fake-anthropic.js";
export { type FakeGemini, type GeminiPart, type GeminiRequest, startFakeGemini } from "./fake-gemini.js";
export { type FakeOpenAI, type ResponsesItem, type ResponsesRequest, startFakeOpenAI } from "./fake-openai.js";
export { geminiBinary, geminiEnv } from "./gemini-cli.js";
export { type NotYet, UNTIL_DEFAULT_MS, UntilTimeoutError, until } from "./poll.js";
export { groupMembers, isRunning } from "./process.js";
export {
  AUTH_KEY,
  agentBlock,
  Client,
  claudeAgent,
  type EventOf,
  is,
  newTab,
  PipeClient,
  SRV_BIN,
  Srv,
  type SrvOptions,
  srvWithClient,
  stubbornAgent,
  WsClient,
} from "./srv.js";
export { STAND_INS, type StandIn, standIn } from "./stand-ins.js";
