-- The DTM-compatible surface (docs/coming-from-dtm.md). A transaction begun through it
-- keeps DTM's options as JSON text (trans_type, branch_headers, request_timeout, ...):
-- every coordinator and worker that drives or recovers it calls its branches in DTM's
-- dialect from this column alone. NULL for a transaction begun through /v1.
ALTER TABLE dtx_global_tx ADD COLUMN dtm_options TEXT NULL;
