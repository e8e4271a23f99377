export {
  ConfigError,
  defaultPipePath,
  fnv1a64,
  loadConfig,
  resolveDataDir,
  SRV_VERSION,
  type SrvConfig,
} from "./config.js";
export { Connection, execute, type Outcome, type Services, type Sink } from "./connection.js";
export { Core, type CoreOptions, type Origin } from "./core.js";
export { createLogger } from "./logging.js";
export { Sagas } from "./sagas.js";
export { type RunningSrv, type StartOptions, startSrv } from "./srv.js";
