-- DTX coordinator log. Times are Unix epoch milliseconds; JSON is kept in text
-- columns so the same DDL runs on MariaDB 10.11 and MySQL 8.
CREATE TABLE IF NOT EXISTS dtx_global_tx (
  xid           VARCHAR(128)  NOT NULL,
  status        VARCHAR(16)   NOT NULL,
  stuck         TINYINT       NOT NULL DEFAULT 0,
  reason        VARCHAR(1024) NULL,
  timeout_ms    INT           NOT NULL,
  branch_order  VARCHAR(16)   NOT NULL,
  attempts      INT           NOT NULL DEFAULT 0,
  next_retry_at BIGINT        NULL,
  last_error    VARCHAR(2048) NULL,
  meta          MEDIUMTEXT    NULL,
  created_at    BIGINT        NOT NULL,
  updated_at    BIGINT        NOT NULL,
  deadline      BIGINT        NOT NULL,
  finished_at   BIGINT        NULL,
  PRIMARY KEY (xid),
  KEY dtx_global_tx_due (status, next_retry_at),
  KEY dtx_global_tx_created (created_at),
  KEY dtx_global_tx_status_created (status, created_at),
  KEY dtx_global_tx_stuck_created (stuck, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS dtx_branch (
  xid         VARCHAR(128)  NOT NULL,
  branch_id   VARCHAR(64)   NOT NULL,
  seq         INT           NOT NULL,
  action      VARCHAR(256)  NULL,
  try_url     VARCHAR(2048) NULL,
  confirm_url VARCHAR(2048) NOT NULL,
  cancel_url  VARCHAR(2048) NOT NULL,
  payload     MEDIUMTEXT    NULL,
  try_result  MEDIUMTEXT    NULL,
  timeout_ms  INT           NULL,
  status      VARCHAR(16)   NOT NULL,
  attempts    INT           NOT NULL DEFAULT 0,
  last_error  VARCHAR(2048) NULL,
  created_at  BIGINT        NOT NULL,
  updated_at  BIGINT        NOT NULL,
  PRIMARY KEY (xid, branch_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
