-- Participant barrier (PROTOCOL.md), in the participant's own database.
CREATE TABLE IF NOT EXISTS dtx_barrier (
  xid        TEXT NOT NULL,
  branch_id  TEXT NOT NULL,
  op         TEXT NOT NULL,
  reason     TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (xid, branch_id, op)
);
CREATE INDEX IF NOT EXISTS dtx_barrier_created ON dtx_barrier (created_at);
