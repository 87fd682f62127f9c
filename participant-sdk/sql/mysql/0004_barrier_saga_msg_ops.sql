-- Saga and message ops (PROTOCOL.md v1.2): `compensate` (10 characters) does not fit the
-- protocol's VARCHAR(8), so op and reason are widened on new and existing installs alike.
ALTER TABLE dtx_barrier MODIFY op VARCHAR(16) NOT NULL, MODIFY reason VARCHAR(16) NOT NULL;
