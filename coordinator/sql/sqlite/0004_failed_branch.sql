-- The first branch whose try failed, on the transaction's own row. The commit decision
-- guards on it, so it reads only the row it locks (see docs/design.md, invariant 1).
ALTER TABLE dtx_global_tx ADD COLUMN failed_branch TEXT NULL;
UPDATE dtx_global_tx SET failed_branch = (SELECT MIN(b.branch_id) FROM dtx_branch b WHERE b.xid = dtx_global_tx.xid AND b.status = 'try_failed') WHERE status = 'trying';
