-- DTX coordinator log. Times are Unix epoch milliseconds; JSON is kept in text.
CREATE TABLE IF NOT EXISTS dtx_global_tx (
  xid           TEXT    NOT NULL PRIMARY KEY,
  status        TEXT    NOT NULL,
  stuck         INTEGER NOT NULL DEFAULT 0,
  reason        TEXT    NULL,
  timeout_ms    INTEGER NOT NULL,
  branch_order  TEXT    NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_retry_at INTEGER NULL,
  last_error    TEXT    NULL,
  meta          TEXT    NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  deadline      INTEGER NOT NULL,
  finished_at   INTEGER NULL
);
CREATE INDEX IF NOT EXISTS dtx_global_tx_due ON dtx_global_tx (status, next_retry_at);
CREATE INDEX IF NOT EXISTS dtx_global_tx_created ON dtx_global_tx (created_at);
CREATE INDEX IF NOT EXISTS dtx_global_tx_status_created ON dtx_global_tx (status, created_at);
CREATE INDEX IF NOT EXISTS dtx_global_tx_stuck_created ON dtx_global_tx (stuck, created_at);

CREATE TABLE IF NOT EXISTS dtx_branch (
  xid         TEXT    NOT NULL,
  branch_id   TEXT    NOT NULL,
  seq         INTEGER NOT NULL,
  action      TEXT    NULL,
  try_url     TEXT    NULL,
  confirm_url TEXT    NOT NULL,
  cancel_url  TEXT    NOT NULL,
  payload     TEXT    NULL,
  try_result  TEXT    NULL,
  timeout_ms  INTEGER NULL,
  status      TEXT    NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT    NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (xid, branch_id)
);
