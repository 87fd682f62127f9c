-- The W3C trace context of the request that began a transaction, sent on its every callback.
ALTER TABLE dtx_global_tx ADD COLUMN trace_parent TEXT NULL;
ALTER TABLE dtx_global_tx ADD COLUMN trace_state TEXT NULL;
