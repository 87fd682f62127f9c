-- A driven transaction's tries are held by the process calling them until this time
-- (epoch ms); a repeated driven begin takes them over only once it has passed.
ALTER TABLE dtx_global_tx ADD COLUMN drive_until INTEGER NULL;
