// The public surface of @agentmux/srv: start it inside another program, or read its configuration.
export { loadConfig, resolveDataDir, type SrvConfig, USAGE } from "./config.js";
export {
  AgentMetaError,
  AgentNotRunningError,
  ConfigError,
  DispatcherFailedError,
  SocketInUseError,
  SocketUnsafeError,
  SrvError,
  type SrvErrorCode,
  StartAbortedError,
} from "./errors.js";
export { type RunningSrv, type StartOptions, startSrv } from "./srv.js";
export { SRV_VERSION } from "./version.js";
