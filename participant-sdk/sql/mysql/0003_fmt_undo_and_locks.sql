-- FMT mode (README "FMT"): the undo records of @FmtAction tries and their global row locks,
-- in the participant's own database, written in the try's local transaction.
-- One row per managed write; `image` is JSON whose values are all text (never JS numbers).
CREATE TABLE IF NOT EXISTS dtx_fmt_undo (
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  xid         VARCHAR(128) NOT NULL,
  branch_id   VARCHAR(64)  NOT NULL,
  seq         INT          NOT NULL,
  table_name  VARCHAR(192) NOT NULL,
  kind        VARCHAR(8)   NOT NULL,
  image       LONGTEXT     NOT NULL,
  resolution  VARCHAR(16)  NULL,
  created_at  DATETIME(3)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY dtx_fmt_undo_branch (xid, branch_id, seq),
  KEY dtx_fmt_undo_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- A row written by an undecided FMT branch: row_key is the SHA-256 (hex) of [table, primary key].
CREATE TABLE IF NOT EXISTS dtx_fmt_lock (
  row_key     CHAR(64)      NOT NULL,
  table_name  VARCHAR(192)  NOT NULL,
  pk          VARCHAR(1024) NOT NULL,
  xid         VARCHAR(128)  NOT NULL,
  branch_id   VARCHAR(64)   NOT NULL,
  created_at  DATETIME(3)   NOT NULL,
  PRIMARY KEY (row_key),
  KEY dtx_fmt_lock_xid (xid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
