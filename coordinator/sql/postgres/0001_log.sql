-- DTX coordinator log. Times are Unix epoch milliseconds (BIGINT; the log's pool
-- parses int8 to numbers); JSON is kept in text columns, as on the other dialects.
-- Keys compare bytewise (COLLATE "C"), as MySQL's utf8mb4_bin does.
CREATE TABLE IF NOT EXISTS dtx_global_tx (
  xid           VARCHAR(128)  COLLATE "C" NOT NULL PRIMARY KEY,
  status        VARCHAR(16)   NOT NULL,
  stuck         SMALLINT      NOT NULL DEFAULT 0,
  reason        VARCHAR(1024) NULL,
  timeout_ms    INTEGER       NOT NULL,
  branch_order  VARCHAR(16)   NOT NULL,
  attempts      INTEGER       NOT NULL DEFAULT 0,
  next_retry_at BIGINT        NULL,
  last_error    VARCHAR(2048) NULL,
  meta          TEXT          NULL,
  created_at    BIGINT        NOT NULL,
  updated_at    BIGINT        NOT NULL,
  deadline      BIGINT        NOT NULL,
  finished_at   BIGINT        NULL
);
-- The due-work query (log/queries/findDue.ts) as one range scan in next_retry_at order
-- over the unfinished rows only; the predicate is findDue's status list (UNFINISHED in
-- core/transitions.ts), so the planner can prove the query stays inside the index.
CREATE INDEX IF NOT EXISTS dtx_global_tx_due ON dtx_global_tx (next_retry_at)
  WHERE status IN ('trying', 'committing', 'rolling_back');
CREATE INDEX IF NOT EXISTS dtx_global_tx_created ON dtx_global_tx (created_at);
CREATE INDEX IF NOT EXISTS dtx_global_tx_status_created ON dtx_global_tx (status, created_at);
CREATE INDEX IF NOT EXISTS dtx_global_tx_stuck_created ON dtx_global_tx (stuck, created_at);

CREATE TABLE IF NOT EXISTS dtx_branch (
  xid         VARCHAR(128)  COLLATE "C" NOT NULL,
  branch_id   VARCHAR(64)   COLLATE "C" NOT NULL,
  seq         INTEGER       NOT NULL,
  action      VARCHAR(256)  NULL,
  try_url     VARCHAR(2048) NULL,
  confirm_url VARCHAR(2048) NOT NULL,
  cancel_url  VARCHAR(2048) NOT NULL,
  payload     TEXT          NULL,
  try_result  TEXT          NULL,
  timeout_ms  INTEGER       NULL,
  status      VARCHAR(16)   NOT NULL,
  attempts    INTEGER       NOT NULL DEFAULT 0,
  last_error  VARCHAR(2048) NULL,
  created_at  BIGINT        NOT NULL,
  updated_at  BIGINT        NOT NULL,
  PRIMARY KEY (xid, branch_id)
);
