-- Attempt history: one row per participant call the coordinator or a worker made
-- (driven try, confirm, cancel). Bounded per branch and phase (the first and the latest
-- ones are kept), deleted with its transaction by retention.
CREATE TABLE IF NOT EXISTS dtx_attempt (
  id          INTEGER NOT NULL PRIMARY KEY,
  xid         TEXT    NOT NULL,
  branch_id   TEXT    NOT NULL,
  phase       TEXT    NOT NULL,
  attempt     INTEGER NOT NULL,
  called_at   INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  http_status INTEGER NULL,
  ok          INTEGER NOT NULL,
  error       TEXT    NULL
);
CREATE INDEX IF NOT EXISTS dtx_attempt_branch ON dtx_attempt (xid, branch_id, phase, attempt);
