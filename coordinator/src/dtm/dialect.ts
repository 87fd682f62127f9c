/**
 * What a transaction begun through the DTM-compatible surface keeps of DTM's options
 * (the log's `dtm_options` column, docs/coming-from-dtm.md). Stored under DTM's own
 * field names, so `query` can hand them back as DTM's `options` string.
 */
export const DTM_TRANS_TYPES = ['tcc', 'xa', 'saga', 'msg'] as const;
export type DtmTransType = (typeof DTM_TRANS_TYPES)[number];

export interface DtmOptions {
  trans_type: DtmTransType;
  /** Added to every branch call. */
  branch_headers?: Record<string, string>;
  /** Per-call timeout, seconds. */
  request_timeout?: number;
  /** Seconds between retries of an ONGOING answer. */
  retry_interval?: number;
  timeout_to_fail?: number;
  retry_limit?: number;
  /** Saga `{"concurrent","orders"}`, msg `{"delay"}`: DTM's JSON text as sent. */
  custom_data?: string;
  concurrent?: boolean;
}

export const isDtmTransType = (v: unknown): v is DtmTransType => typeof v === 'string' && (DTM_TRANS_TYPES as readonly string[]).includes(v);

/** The options of a DTM-begun transaction, null for one begun through /v1. */
export function parseDtmOptions(json: string | null | undefined): DtmOptions | null {
  if (json === null || json === undefined) return null;
  return JSON.parse(json) as DtmOptions;
}

/**
 * When a DTM message's deliveries may start: its creation plus `custom_data.delay`
 * seconds (checked at its begin); null when it has none.
 */
export function deliveryNotBefore(o: DtmOptions | null, createdAt: number): number | null {
  if (o?.trans_type !== 'msg' || o.custom_data === undefined) return null;
  const delay = (JSON.parse(o.custom_data) as { delay?: unknown } | null)?.delay;
  return typeof delay === 'number' && delay > 0 ? createdAt + delay * 1000 : null;
}

/** The column's text: keys in a fixed order, so a repeated prepare compares as a string. */
export function dtmOptionsJson(o: DtmOptions): string {
  const ordered: Record<string, unknown> = {};
  for (const key of Object.keys(o).sort()) {
    const v = o[key as keyof DtmOptions];
    if (v !== undefined) ordered[key] = v;
  }
  return JSON.stringify(ordered);
}
