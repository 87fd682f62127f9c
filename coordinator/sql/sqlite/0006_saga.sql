-- v1.2 saga mode. A transaction's mode ('tcc' or 'saga'); a saga step's `after` list
-- (JSON array of branch ids, as it runs: absent in the request means the step before it)
-- and when its action was first called (written before the call, so a coordinator that
-- dies mid-call still compensates it). The action's URL is try_url, its compensation's
-- cancel_url (confirm_url repeats the action's URL), its result try_result.
ALTER TABLE dtx_global_tx ADD COLUMN tx_mode TEXT NOT NULL DEFAULT 'tcc';
ALTER TABLE dtx_branch ADD COLUMN after_ids TEXT NULL;
ALTER TABLE dtx_branch ADD COLUMN called_at INTEGER NULL;
CREATE INDEX IF NOT EXISTS dtx_global_tx_mode_created ON dtx_global_tx (tx_mode, created_at);
