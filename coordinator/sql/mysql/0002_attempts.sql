-- Attempt history: one row per participant call the coordinator or a worker made
-- (driven try, confirm, cancel). Bounded per branch and phase (the first and the latest
-- ones are kept), deleted with its transaction by retention.
CREATE TABLE IF NOT EXISTS dtx_attempt (
  id          BIGINT        NOT NULL AUTO_INCREMENT,
  xid         VARCHAR(128)  NOT NULL,
  branch_id   VARCHAR(64)   NOT NULL,
  phase       VARCHAR(8)    NOT NULL,
  attempt     INT           NOT NULL,
  called_at   BIGINT        NOT NULL,
  duration_ms INT           NOT NULL,
  http_status INT           NULL,
  ok          TINYINT       NOT NULL,
  error       VARCHAR(2048) NULL,
  PRIMARY KEY (id),
  KEY dtx_attempt_branch (xid, branch_id, phase, attempt)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
