-- Participant barrier (PROTOCOL.md), in the participant's own database.
CREATE TABLE IF NOT EXISTS dtx_barrier (
  xid        VARCHAR(128) NOT NULL,
  branch_id  VARCHAR(64)  NOT NULL,
  op         VARCHAR(8)   NOT NULL,
  reason     VARCHAR(8)   NOT NULL,
  created_at DATETIME(3)  NOT NULL,
  PRIMARY KEY (xid, branch_id, op),
  KEY dtx_barrier_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
