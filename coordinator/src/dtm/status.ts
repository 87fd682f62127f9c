import type { TxStatus } from '@dtx/protocol';
import type { DtmTransType } from './dialect.js';

/** DTM's global statuses. */
export type DtmStatus = 'prepared' | 'submitted' | 'aborting' | 'succeed' | 'failed';

/** A DTX status as DTM names it; a saga runs as soon as it is submitted, so its `trying` is `submitted`. */
export function dtmStatus(transType: DtmTransType, status: TxStatus): DtmStatus {
  switch (status) {
    case 'trying':
      return transType === 'saga' ? 'submitted' : 'prepared';
    case 'committing':
      return 'submitted';
    case 'rolling_back':
      return 'aborting';
    case 'committed':
      return 'succeed';
    case 'rolled_back':
      return 'failed';
  }
}

/** The DTX statuses a DTM status filter (`all?status=`) covers. */
export function dtxStatusesOf(status: string): TxStatus[] | null {
  switch (status) {
    case 'prepared':
      return ['trying'];
    case 'submitted':
      return ['trying', 'committing'];
    case 'aborting':
      return ['rolling_back'];
    case 'succeed':
      return ['committed'];
    case 'failed':
      return ['rolled_back'];
    default:
      return null;
  }
}
