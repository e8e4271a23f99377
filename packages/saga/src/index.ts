export { type Inverse, inverseOf } from "./inverse.js";
export { SagaLog } from "./log.js";
export { compensateUnresolved, type RecoveryOptions, type RecoveryReport } from "./recovery.js";
export {
  DEFAULT_SAGA_TIMEOUT_MS,
  type Dispatch,
  type Publish,
  type SagaDefinition,
  type SagaEventDraft,
  type SagaOutcome,
  SagaRunner,
  type SagaRunnerOptions,
  type SagaStep,
  stepReqId,
} from "./runner.js";
export { type SagaDB, type SagaRow, type SagaState, type StepRow, type StepState, sagaMigrations } from "./schema.js";
