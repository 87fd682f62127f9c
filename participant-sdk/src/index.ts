export { Participant, TccAction, XaAction, FmtAction, SagaAction, MsgAction } from './decorators/participant.js';
export type { TccContext, TccHandler, HandlerKeys, PayloadOf, TryResultOf, SagaContext, SagaHandler, SagaHandlerKeys, SagaPayloadOf } from './decorators/context.js';
export { describeParticipant, type ParticipantDefinition, type ActionDefinition } from './decorators/describe-participant.js';
export { participantPlugin, HEADER_BARRIER, type ParticipantPluginOptions, type XaOptions, type FmtOptions, type StrandedBranchOptions } from './http/participant-plugin.js';
export { ActionTable } from './runtime/action-table.js';
export { runInBarrier, type BarrierOutcome } from './barrier/run-in-barrier.js';
export { runSagaPhase, type SagaBusiness } from './barrier/run-saga-phase.js';
export { ensureBarrierTable } from './barrier/ensure-barrier-table.js';
export { pruneBarrier, type PruneBarrierOptions } from './barrier/prune-barrier.js';
export { ensureFmtTables } from './fmt/ensure-fmt-tables.js';
export { withGlobalLock, type WithGlobalLockOptions } from './fmt/with-global-lock.js';
export { resolveDirtyRollback, type DirtyRollbackResolution } from './fmt/resolve-dirty-rollback.js';
export { pruneFmt, type PruneFmtOptions } from './fmt/prune-fmt.js';
export { xaIdOf, xaFormatIdOf, type XaId } from './xa/xa-id.js';
export { knexFromUrl, type KnexFromUrlOptions } from './database/knex-from-url.js';
export {
  DtxSdkError,
  TccRejectedError,
  TrySuspendedError,
  PhaseConflictError,
  ParticipantDefinitionError,
  InvalidCallbackError,
  UnknownActionError,
  BadSignatureError,
  DatabaseUrlError,
  DriverMissingError,
  BranchBusyError,
  XaUnsupportedError,
  FmtUnsupportedError,
  FmtUnsupportedStatementError,
  FmtLockBusyError,
  FmtDirtyRollbackError,
  FmtBranchWaitingError,
  FmtRowsMovedError,
  MessageNotCommittableError,
  type DirtyRow,
  toError,
} from './errors.js';
export {
  CoordinatorClient,
  type CoordinatorClientOptions,
  type BeginResponse,
  type DrivenResponse,
  type DecisionResponse,
  type RegisterResponse,
  type TryReport,
  type CommitOptions,
  type DecideOptions,
} from './client/coordinator-client.js';
export type { Tx, TransactionOptions, TransactionOutcome, TransactionBody, CallOptions } from './client/transaction.js';
export { actionRef, sagaActionRef, participantRef, branchOf, type ActionRef, type SagaActionRef, type MsgActionRef, type RefOptions } from './client/action-ref.js';
export { Message, type MessageOptions, type MessageStepOptions, type MessageOutcome } from './client/message.js';
export { messageCheckUrl } from './client/message-check-url.js';
export { Saga, type SagaOptions, type SagaStepOptions, type SagaStep, type SagaStepView, type SagaView, type SagaOutcome } from './client/saga.js';
export * from './client/errors.js';
